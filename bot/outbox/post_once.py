"""Posting a Slack message at most once per key, even across crashes.

Before posting, a marker is stored; the message carries the key in Slack message metadata. A
worker that finds the marker but no recorded ts died between Slack accepting the post and
recording it, so it looks the message up in the channel's history instead of posting again.
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from bot.slack.client import BotWebClient
from bot.store.base import Store

log = structlog.get_logger(__name__)

EVENT_TYPE = "triage_bot_post"
KEEP_SECONDS = 30 * 24 * 3600.0
HISTORY_PAGE = 200


class PostOnce:
    def __init__(self, store: Store, client: BotWebClient) -> None:
        self._store = store
        self._client = client

    async def posted_ts(self, key: str) -> str | None:
        return await self._store.get_value(_ts_key(key))

    async def post(self, channel: str, key: str, **message: Any) -> str:
        """The ts of the message for `key`, posting it only if it was never posted."""
        ts = await self.posted_ts(key) or await self._find_after_crash(channel, key)
        if ts is None:
            await self._store.set_value(_marker_key(key), str(time.time()), KEEP_SECONDS)
            response = await self._client.chat_postMessage(
                channel=channel,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
                **message,
            )
            ts = str(response["ts"])
        await self._store.set_value(_ts_key(key), ts, KEEP_SECONDS)
        return ts

    async def mark_done(self, key: str, value: str) -> None:
        """Record that the write under `key` happened (for writes that are not messages)."""
        await self._store.set_value(_ts_key(key), value, KEEP_SECONDS)

    async def _find_after_crash(self, channel: str, key: str) -> str | None:
        marker = await self._store.get_value(_marker_key(key))
        if marker is None:
            return None
        history = await self._client.conversations_history(
            channel=channel,
            oldest=str(float(marker) - 5),
            include_all_metadata=True,
            limit=HISTORY_PAGE,
        )
        messages: list[dict[str, Any]] = history.get("messages") or []
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                log.info("found a message posted before a crash; not posting it again", key=key)
                return str(message["ts"])
        return None


def _ts_key(key: str) -> str:
    return f"slack-ts:{key}"


def _marker_key(key: str) -> str:
    return f"slack-posting:{key}"
