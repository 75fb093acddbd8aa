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
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import lookup
from bot.outbox.ops import SlotContent, Upload, metadata
from bot.outbox.pace import Pace, Pacer
from bot.slack.client import OUTBOX_REQUEST_TIMEOUT_SECONDS
from bot.store.outbox_contract import Fence, LaneLost, OutboxStore

# An upload is three requests (upload URL, bytes, completion), each with the client's timeout.
UPLOAD_REQUESTS = 3


class Throttled(Exception):
    """Slack answered 429; the pace it hit is held for Retry-After, for every replica."""


@dataclass(frozen=True)
class Written:
    """What Slack assigned to a write, and whether this call made it (False: an earlier
    attempt had, so a message may show older content than this call's)."""

    result: str
    fresh: bool


class Contended(Exception):
    """Another process marked the same write meanwhile: look it up before writing."""


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
        self,
        op_id: str,
        channel: str,
        content: SlotContent,
        thread_ts: str | None,
        fence: Fence,
    ) -> Written:
        """The ts of the message for `op_id`, posting it only if Slack does not have it."""

        async def find(since: float) -> str | None:
            return await lookup.find_post(self._client, channel, op_id, thread_ts, since)

        async def post() -> str:
            response = await self._client.chat_postMessage(
                channel=channel,
                text=content.text,
                blocks=content.blocks or None,
                thread_ts=thread_ts,
                metadata=metadata(op_id),
            )
            return str(response["ts"])

        return await self._write_once(op_id, fence, channel, find, post, requests=1)

    async def upload_once(self, op: Upload, thread_ts: str | None, fence: Fence) -> Written:
        """The id of the file shared for `op`, uploading it only if Slack does not have it."""
        name = op.unique_filename

        async def find(since: float) -> str | None:
            return await lookup.find_file(self._client, op.channel, name, thread_ts, since)

        async def upload() -> str:
            response = await self._client.files_upload_v2(
                channel=op.channel,
                thread_ts=thread_ts,
                content=base64.b64decode(op.png_base64),
                filename=name,
                title=op.title,
            )
            return str((response.get("file") or {}).get("id") or name)

        return await self._write_once(
            op.op_id, fence, op.channel, find, upload, requests=UPLOAD_REQUESTS
        )

    async def edit(self, channel: str, ts: str, content: SlotContent, fence: Fence) -> None:
        """Set a message to `content`; repeating it shows the same. Only the lane's owner
        edits, so an edit never goes back to older content."""
        await self._pacer.turn(self._pacer.rules.edits())
        if not await self._records.owns_lane(fence.lane, fence.token):
            raise LaneLost(fence.lane)
        try:
            await self._client.chat_update(
                channel=channel, ts=ts, text=content.text, blocks=content.blocks or None
            )
        except SlackApiError as error:
            await self._throttled(error, self._pacer.rules.edits())
            raise

    async def _write_once(
        self,
        op_id: str,
        fence: Fence,
        channel: str,
        find: Callable[[float], Awaitable[str | None]],
        write: Callable[[], Awaitable[str]],
        *,
        requests: int,
    ) -> Written:
        record = await self._records.op_record(op_id)
        if record.done is not None:
            return Written(record.done, fresh=False)
        if record.attempt:
            found = await find(await self._settled(record.attempt, requests=requests))
            if found is not None:
                await self._records.mark_done(op_id, found)
                return Written(found, fresh=False)
        pace = self._pacer.rules.posts(channel)
        await self._pacer.turn(pace)
        marker = f"{time.time():.3f} {self._consumer}"
        rival = await self._records.mark_attempt(
            op_id, marker, fence=fence, expected=record.attempt
        )
        if rival is not None:
            raise Contended(f"another replica started writing {op_id}; looking it up first")
        try:
            result = await write()
        except SlackApiError as error:
            if getattr(error.response, "status_code", None) in (200, 429):
                # Slack answered: the write did not happen, there is nothing to look up.
                await self._records.mark_attempt(op_id, "", fence=fence, expected=marker)
            await self._throttled(error, pace)
            raise
        await self._records.mark_done(op_id, result)
        return Written(result, fresh=True)

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
