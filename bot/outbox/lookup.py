"""Finding a write again in Slack after a crash or a lost reply, instead of repeating it.

A post is found by the op id in its message metadata; a file by its unique name in the thread.
Top-level messages are read with `conversations.history`, thread replies with
`conversations.replies` (public channels need `channels:history`, private ones
`groups:history`). Only messages since the attempt (with a margin for clock skew) are read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.ops import op_of

CLOCK_SKEW_SECONDS = 120.0
PAGE_SIZE = 200
MAX_PAGES = 10


async def find_post(
    client: AsyncWebClient, channel: str, op_id: str, thread_ts: str | None, since: float
) -> str | None:
    """The ts of the message posted for `op_id`, if Slack has it."""
    async for message in _messages(client, channel, thread_ts, since):
        if op_of(message) == op_id:
            return str(message["ts"])
    return None


async def find_file(
    client: AsyncWebClient, channel: str, filename: str, thread_ts: str | None, since: float
) -> str | None:
    """The id of the file shared under `filename`, if Slack has it."""
    async for message in _messages(client, channel, thread_ts, since):
        for file in message.get("files") or []:
            if file.get("name") == filename:
                return str(file.get("id") or message["ts"])
    return None


async def _messages(
    client: AsyncWebClient, channel: str, thread_ts: str | None, since: float
) -> AsyncIterator[dict[str, Any]]:
    oldest = f"{max(0.0, since - CLOCK_SKEW_SECONDS):.6f}"
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        if thread_ts is None:
            page = await client.conversations_history(
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=PAGE_SIZE,
                cursor=cursor,
            )
        else:
            page = await client.conversations_replies(
                channel=channel,
                ts=thread_ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=PAGE_SIZE,
                cursor=cursor,
            )
        for message in page.get("messages") or []:
            yield message
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return
