"""How each outbox op becomes Slack calls, made idempotent against crashes.

The root message carries the incident id in Slack message metadata. Before posting it, a marker
is stored; if a worker finds the marker but no recorded root, it died between Slack accepting the
post and recording it, so it looks the message up in the channel instead of posting a second root.
"""

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
from bot.outbox.ops import SyncChecklist, SyncRoot, ThreadNote, UploadChart
from bot.outbox.worker import Op, Outcome
from bot.slack.blocks import to_payload
from bot.slack.client import BotWebClient
from bot.slack.render.incident import root_blocks, root_text

log = structlog.get_logger(__name__)

ROOT_EVENT_TYPE = "triage_incident_root"
MARKER_TTL_SECONDS = 7 * 24 * 3600.0
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
        self._last_edit: dict[str, tuple[float, str]] = {}

    async def channel_of(self, op: Op) -> str:
        incident = await self._repo.get(op.incident_id)
        return incident.slack.channel if incident else "_gone"

    async def deliver(self, op: Op) -> Outcome:
        incident = await self._repo.get(op.incident_id)
        if incident is None:
            log.warning("dropping a Slack write for an unknown incident", incident=op.incident_id)
            return Outcome.DONE
        try:
            return await self._dispatch(op, incident)
        except SlackApiError as error:
            return self._classify(error, op)

    async def _dispatch(self, op: Op, incident: Incident) -> Outcome:
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

    def _classify(self, error: SlackApiError, op: Op) -> Outcome:
        code = str(error.response.get("error", ""))
        if code in PERMANENT_ERRORS:
            log.error(
                "Slack refused a write for good", op=op.op, incident=op.incident_id, error=code
            )
            return Outcome.DONE
        log.warning("Slack write failed; will retry", op=op.op, error=code or "unknown")
        return Outcome.RETRY

    async def _sync_root(self, incident: Incident) -> Outcome:
        text, blocks = root_text(incident), to_payload(root_blocks(incident))
        channel = incident.slack.channel
        ts = incident.slack.root_ts or await self._find_posted_root(incident)
        if ts is not None:
            await self._edit(channel, ts, text, blocks)
            if incident.slack.root_ts is None:
                await self._record(incident.id, root_ts=ts)
            return Outcome.DONE
        await self._repo.store.set_value(_marker(incident.id), str(time.time()), MARKER_TTL_SECONDS)
        response = await self._client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={"event_type": ROOT_EVENT_TYPE, "event_payload": {"incident_id": incident.id}},
        )
        await self._record(incident.id, root_ts=str(response["ts"]))
        return Outcome.DONE

    async def _find_posted_root(self, incident: Incident) -> str | None:
        marker = await self._repo.store.get_value(_marker(incident.id))
        if marker is None:
            return None
        history = await self._client.conversations_history(
            channel=incident.slack.channel,
            oldest=str(float(marker) - 5),
            include_all_metadata=True,
            limit=200,
        )
        messages: list[dict[str, Any]] = history.get("messages") or []
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("incident_id") == incident.id:
                log.info(
                    "found a root posted before a crash; not posting again", incident=incident.id
                )
                return str(message["ts"])
        return None

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


def _marker(incident_id: str) -> str:
    return f"root-posting:{incident_id}"


def _digest(text: str, blocks: list[dict[str, Any]]) -> str:
    return hashlib.sha256(repr((text, blocks)).encode()).hexdigest()
