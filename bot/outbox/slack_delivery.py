"""How each incident op becomes Slack calls. The root goes through `PostOnce`, so a crash
between Slack accepting it and the bot recording it never yields a second root."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from bot.incidents.model import Incident
from bot.incidents.repository import IncidentRepository
from bot.outbox.channel_delivery import ChannelDelivery
from bot.outbox.ops import (
    AnyOp,
    ChannelFile,
    ChannelMessage,
    IncidentOp,
    SyncChecklist,
    SyncRoot,
    ThreadNote,
    UploadChart,
)
from bot.outbox.post_once import PostOnce
from bot.outbox.worker import Outcome
from bot.slack.blocks import to_payload
from bot.slack.client import BotWebClient
from bot.slack.render.incident import root_blocks, root_text

log = structlog.get_logger(__name__)

EDIT_INTERVAL_SECONDS = 2.0
# Errors that no retry will fix: drop the write and say so in the log.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
        "invalid_auth",
        "account_inactive",
        "no_text",
        "invalid_arguments",
    }
)

ChecklistRenderer = Callable[[Incident], Awaitable[tuple[str, list[dict[str, Any]]] | None]]


class SlackDelivery:
    def __init__(
        self,
        repository: IncidentRepository,
        client: BotWebClient,
        render_checklist: ChecklistRenderer,
    ) -> None:
        self._repo = repository
        self._client = client
        self._render_checklist = render_checklist
        self._post_once = PostOnce(repository.store, client)
        self._last_edit: dict[str, tuple[float, str]] = {}

    async def channel_of(self, op: IncidentOp) -> str:
        incident = await self._repo.get(op.incident_id)
        return incident.slack.channel if incident else "_gone"

    async def deliver(self, op: IncidentOp) -> Outcome:
        if isinstance(op, SyncRoot | SyncChecklist):
            await self._repo.begin_sync(op)
        incident = await self._repo.get(op.incident_id)
        if incident is None:
            log.warning("dropping a Slack write for an unknown incident", incident=op.incident_id)
            return Outcome.DONE
        try:
            return await self._dispatch(op, incident)
        except SlackApiError as error:
            return classify(error, op.op, op.incident_id)

    async def _dispatch(self, op: IncidentOp, incident: Incident) -> Outcome:
        if isinstance(op, SyncRoot):
            return await self._sync_root(incident)
        if incident.slack.root_ts is None:
            return Outcome.LATER
        if isinstance(op, ThreadNote):
            await self._client.chat_postMessage(
                channel=incident.slack.channel, thread_ts=incident.slack.root_ts, text=op.text
            )
            return Outcome.DONE
        if isinstance(op, SyncChecklist):
            return await self._sync_checklist(incident)
        return await self._upload_chart(op, incident)

    async def _sync_root(self, incident: Incident) -> Outcome:
        text, blocks = root_text(incident), to_payload(root_blocks(incident))
        channel = incident.slack.channel
        if incident.slack.root_ts is not None:
            await self._edit(channel, incident.slack.root_ts, text, blocks)
            return Outcome.DONE
        key = f"incident-root:{incident.id}"
        already = await self._post_once.posted_ts(key)
        ts = await self._post_once.post(channel, key, text=text, blocks=blocks)
        await self._record(incident.id, root_ts=ts)
        if already is not None:
            await self._edit(channel, ts, text, blocks)
        return Outcome.DONE

    async def _record(self, incident_id: str, **slack_fields: str) -> None:
        async with self._repo.locked_incident(incident_id) as incident:
            if incident is not None:
                for name, value in slack_fields.items():
                    setattr(incident.slack, name, value)

    async def _sync_checklist(self, incident: Incident) -> Outcome:
        rendered = await self._render_checklist(incident)
        if rendered is None:
            return Outcome.DONE
        text, blocks = rendered
        channel, root = incident.slack.channel, incident.slack.root_ts
        if incident.slack.checklist_ts is not None:
            await self._edit(channel, incident.slack.checklist_ts, text, blocks)
            return Outcome.DONE
        response = await self._client.chat_postMessage(
            channel=channel, thread_ts=root, text=text, blocks=blocks
        )
        ts = str(response["ts"])
        self._last_edit[f"{channel}:{ts}"] = (time.monotonic(), _digest(text, blocks))
        await self._record(incident.id, checklist_ts=ts)
        return Outcome.DONE

    async def _edit(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Edit a message unless it already shows this content; at most one edit per 2 s."""
        key, digest = f"{channel}:{ts}", _digest(text, blocks)
        last_at, last_digest = self._last_edit.get(key, (0.0, ""))
        if digest == last_digest:
            return
        wait = last_at + EDIT_INTERVAL_SECONDS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        self._last_edit[key] = (time.monotonic(), digest)

    async def _upload_chart(self, op: UploadChart, incident: Incident) -> Outcome:
        await self._client.files_upload_v2(
            channel=incident.slack.channel,
            thread_ts=incident.slack.root_ts,
            content=base64.b64decode(op.png_base64),
            filename=op.filename,
            title=op.title,
        )
        return Outcome.DONE


def classify(error: SlackApiError, op_name: str, about: str) -> Outcome:
    """Drop writes Slack will never accept; retry the rest later."""
    code = str(error.response.get("error", ""))
    if code in PERMANENT_ERRORS:
        log.error("Slack refused a write for good", op=op_name, about=about, error=code)
        return Outcome.DONE
    log.warning("Slack write failed; will retry", op=op_name, about=about, error=code or "unknown")
    return Outcome.RETRY


def _digest(text: str, blocks: list[dict[str, Any]]) -> str:
    return hashlib.sha256(repr((text, blocks)).encode()).hexdigest()


class Deliveries:
    """Routes each op to the delivery that knows it; what the worker is given."""

    def __init__(self, incidents: SlackDelivery, channels: ChannelDelivery) -> None:
        self._incidents = incidents
        self._channels = channels

    async def channel_of(self, op: AnyOp) -> str:
        if isinstance(op, ChannelMessage | ChannelFile):
            return op.channel
        return await self._incidents.channel_of(op)

    async def deliver(self, op: AnyOp) -> Outcome:
        if isinstance(op, ChannelMessage | ChannelFile):
            try:
                return await self._channels.deliver(op)
            except SlackApiError as error:
                return classify(error, op.op, op.key)
        return await self._incidents.deliver(op)
