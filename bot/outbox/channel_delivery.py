"""Delivery of channel messages and files that belong to no incident (the weekly digest)."""

from __future__ import annotations

import base64

from bot.outbox.ops import ChannelFile, ChannelMessage, ChannelOp
from bot.outbox.post_once import PostOnce
from bot.outbox.worker import Outcome
from bot.slack.client import BotWebClient


class ChannelDelivery:
    def __init__(self, post_once: PostOnce, client: BotWebClient) -> None:
        self._post_once = post_once
        self._client = client

    async def deliver(self, op: ChannelOp) -> Outcome:
        thread_ts = None
        if op.thread_of is not None:
            thread_ts = await self._post_once.posted_ts(op.thread_of)
            if thread_ts is None:
                return Outcome.LATER
        if isinstance(op, ChannelMessage):
            await self._post_once.post(
                op.channel, op.key, text=op.text, blocks=op.blocks or None, thread_ts=thread_ts
            )
            return Outcome.DONE
        return await self._upload(op, thread_ts)

    async def _upload(self, op: ChannelFile, thread_ts: str | None) -> Outcome:
        if await self._post_once.posted_ts(op.key) is not None:
            return Outcome.DONE
        response = await self._client.files_upload_v2(
            channel=op.channel,
            thread_ts=thread_ts,
            content=base64.b64decode(op.png_base64),
            filename=op.filename,
            title=op.title,
        )
        file_id = str((response.get("file") or {}).get("id", "uploaded"))
        await self._post_once.mark_done(op.key, file_id)
        return Outcome.DONE
