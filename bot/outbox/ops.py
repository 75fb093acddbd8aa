"""What can be queued for Slack. Ops name *what* to show; the worker renders the latest state
when it sends, so several queued updates of one message cost one Slack call."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class SyncRoot(BaseModel):
    """Post the incident's root message, or edit it to match the incident now."""

    op: Literal["sync_root"] = "sync_root"
    incident_id: str


class ThreadNote(BaseModel):
    """A line in the incident's thread (acknowledged, silenced, resolved, a note...)."""

    op: Literal["thread_note"] = "thread_note"
    incident_id: str
    text: str


class SyncChecklist(BaseModel):
    """Post the triage checklist into the thread, or edit it to the latest progress."""

    op: Literal["sync_checklist"] = "sync_checklist"
    incident_id: str


class UploadChart(BaseModel):
    """Upload a rendered chart (PNG, base64) into the incident's thread."""

    op: Literal["upload_chart"] = "upload_chart"
    incident_id: str
    filename: str
    title: str
    png_base64: str


class ChannelMessage(BaseModel):
    """A message posted at most once per `key` (e.g. a weekly digest), optionally in the
    thread of the message posted under `thread_of`."""

    op: Literal["channel_message"] = "channel_message"
    channel: str
    key: str
    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    thread_of: str | None = None


class ChannelFile(BaseModel):
    """A PNG uploaded at most once per `key`, into the thread of the message under `thread_of`."""

    op: Literal["channel_file"] = "channel_file"
    channel: str
    key: str
    thread_of: str
    filename: str
    title: str
    png_base64: str


IncidentOp = SyncRoot | ThreadNote | SyncChecklist | UploadChart
ChannelOp = ChannelMessage | ChannelFile
AnyOp = IncidentOp | ChannelOp
OutboxOp = Annotated[AnyOp, Field(discriminator="op")]
OUTBOX_OP = TypeAdapter[OutboxOp](OutboxOp)


def encode(op: AnyOp) -> str:
    return op.model_dump_json()


def decode(item: str) -> AnyOp:
    return OUTBOX_OP.validate_json(item)
