"""What can be queued for Slack: writes that carry their rendered content and a stable id.

One rendering model: producers render; the outbox only delivers. A `Post` is posted once per
`op_id` (the id travels in Slack's message metadata, so it can be found again); an `Upload` is
shared once per `op_id` (its file name carries the id); a `SyncSlot` makes a message slot show
the content last written for it: the first sync posts it once, later ones edit it.

`thread` names the op id (or slot) of the message to reply under, in the same channel.
`label` says what the write is, in words a person understands, for the note the thread gets if
Slack refuses it for good.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

EVENT_TYPE = "triage_bot_op"


class Post(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["post"] = "post"
    op_id: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    thread: str | None = None
    label: str = "a message"
    report_failure: bool = True


class Upload(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["upload"] = "upload"
    op_id: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    thread: str | None = None
    filename: str = Field(min_length=1)
    title: str
    png_base64: str
    label: str = "a chart"
    report_failure: bool = True

    @property
    def unique_filename(self) -> str:
        """The name the file is shared under: unique per op, so it can be found again."""
        stem, dot, extension = self.filename.rpartition(".")
        tag = hashlib.sha256(self.op_id.encode()).hexdigest()[:8]
        return f"{stem}-{tag}.{extension}" if dot else f"{self.filename}-{tag}"


class SyncSlot(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["sync_slot"] = "sync_slot"
    slot: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    thread: str | None = None
    label: str = "a message"
    report_failure: bool = True

    @property
    def op_id(self) -> str:
        return self.slot


class SlotContent(BaseModel):
    """What a slot should show."""

    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)


AnyOp = Post | Upload | SyncSlot
OutboxOp = Annotated[AnyOp, Field(discriminator="kind")]
OUTBOX_OP = TypeAdapter[OutboxOp](OutboxOp)


def encode(op: AnyOp) -> str:
    return op.model_dump_json()


def decode(item: str) -> AnyOp:
    """The op in a queued item; raises pydantic.ValidationError for anything else."""
    return OUTBOX_OP.validate_json(item)


def metadata(op_id: str) -> dict[str, Any]:
    """Slack message metadata naming the op, so a repeat can find the first post."""
    return {"event_type": EVENT_TYPE, "event_payload": {"op": op_id}}


def op_of(message: dict[str, Any]) -> str | None:
    """The op id a Slack message was posted for, if the bot posted it through the outbox."""
    found = message.get("metadata") or {}
    if found.get("event_type") != EVENT_TYPE:
        return None
    op_id = (found.get("event_payload") or {}).get("op")
    return str(op_id) if op_id is not None else None
