"""Slack writes that are safe to repeat.

Before a post or an upload, an attempt marker ("<unix time> <consumer>") is stored; after it,
what Slack assigned. A write that finds a marker without a result may have landed (a crash after
Slack's answer, or an answer lost on the wire), so it is looked up in Slack instead of repeated.
A marker left by another process is looked up only once that process's request can no longer
be in flight (the client timeout), so a write still travelling is never taken for a lost one.
Edits need no marker: setting a message to the same content twice shows it once.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import lookup
from bot.outbox.ops import SlotContent, Upload, metadata
from bot.outbox.pace import Pace, Pacer
from bot.slack.client import OUTBOX_REQUEST_TIMEOUT_SECONDS
from bot.store.outbox_contract import OutboxStore

# An upload is three requests (upload URL, bytes, completion), each with the client's timeout.
UPLOAD_REQUESTS = 3


class Throttled(Exception):
    """Slack answered 429; the pace it hit is held for Retry-After, for every replica."""


class SlackWrites:
    def __init__(
        self,
        client: AsyncWebClient,
        records: OutboxStore,
        pacer: Pacer,
        consumer: str,
        *,
        request_timeout: float = OUTBOX_REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self._client = client
        self._records = records
        self._pacer = pacer
        self._consumer = consumer
        self._request_timeout = request_timeout

    async def post_once(
        self, op_id: str, channel: str, content: SlotContent, thread_ts: str | None
    ) -> str:
        """The ts of the message for `op_id`, posting it only if Slack does not have it."""
        record = await self._records.op_record(op_id)
        if record.done is not None:
            return record.done
        if record.attempt:
            since = await self._settled(record.attempt, requests=1)
            found = await lookup.find_post(self._client, channel, op_id, thread_ts, since)
            if found is not None:
                await self._records.mark_done(op_id, found)
                return found

        async def post() -> Any:
            return await self._client.chat_postMessage(
                channel=channel,
                text=content.text,
                blocks=content.blocks or None,
                thread_ts=thread_ts,
                metadata=metadata(op_id),
            )

        response = await self._attempt(op_id, self._pacer.rules.posts(channel), post)
        ts = str(response["ts"])
        await self._records.mark_done(op_id, ts)
        return ts

    async def upload_once(self, op: Upload, thread_ts: str | None) -> str:
        """The id of the file shared for `op`, uploading it only if Slack does not have it."""
        record = await self._records.op_record(op.op_id)
        if record.done is not None:
            return record.done
        name = op.unique_filename
        if record.attempt:
            since = await self._settled(record.attempt, requests=UPLOAD_REQUESTS)
            found = await lookup.find_file(self._client, op.channel, name, thread_ts, since)
            if found is not None:
                await self._records.mark_done(op.op_id, found)
                return found

        async def upload() -> Any:
            return await self._client.files_upload_v2(
                channel=op.channel,
                thread_ts=thread_ts,
                content=base64.b64decode(op.png_base64),
                filename=name,
                title=op.title,
            )

        response = await self._attempt(op.op_id, self._pacer.rules.posts(op.channel), upload)
        file_id = str((response.get("file") or {}).get("id") or name)
        await self._records.mark_done(op.op_id, file_id)
        return file_id

    async def edit(self, channel: str, ts: str, content: SlotContent) -> None:
        await self._pacer.turn(self._pacer.rules.edits())
        try:
            await self._client.chat_update(
                channel=channel, ts=ts, text=content.text, blocks=content.blocks or None
            )
        except SlackApiError as error:
            await self._throttled(error, self._pacer.rules.edits())
            raise

    async def _attempt(self, op_id: str, pace: Pace, write: Callable[[], Awaitable[Any]]) -> Any:
        await self._pacer.turn(pace)
        await self._records.mark_attempt(op_id, f"{time.time():.3f} {self._consumer}")
        try:
            return await write()
        except SlackApiError as error:
            if getattr(error.response, "status_code", None) in (200, 429):
                # Slack answered: the write did not happen, there is nothing to look up.
                await self._records.mark_attempt(op_id, "")
            await self._throttled(error, pace)
            raise

    async def _throttled(self, error: SlackApiError, pace: Pace) -> None:
        if getattr(error.response, "status_code", None) != 429:
            return
        retry_after = float(error.response.headers.get("Retry-After", 1) or 1)
        await self._pacer.hold(pace, retry_after)
        raise Throttled(f"Slack asked to wait {retry_after:g} s") from error

    async def _settled(self, attempt: str, *, requests: int) -> float:
        """When an earlier attempt started; waits until another process's one has ended."""
        started_text, _, owner = attempt.partition(" ")
        started = float(started_text or 0)
        if owner != self._consumer:
            wait = started + requests * self._request_timeout + 1 - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return started
