"""Writes that will never be delivered: kept with their reason, counted, logged, and named in
their thread.

A write lands here when its entry cannot be decoded, when Slack refuses it for good
(`channel_not_found`, `invalid_blocks`...), when the message it replies to could not be posted,
or when it keeps failing for reasons no retry fixes. Its op is marked failed, so writes that
reply to it fail at once instead of waiting for it, and a failed slot queues no more syncs.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import structlog

from bot import telemetry
from bot.outbox.ops import AnyOp, Post, SyncSlot
from bot.outbox.queue import Outbox
from bot.store.outbox_contract import LaneEntry, OutboxStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why a write is given up: `code` is a short, bounded label (for the metric), `reason`
    the words for people; `tell_thread` False when the thread itself is what failed."""

    code: str
    reason: str
    tell_thread: bool = True


@dataclass(frozen=True)
class DeadLetter:
    lane: str
    entry_id: str
    code: str
    reason: str
    op_id: str | None
    kind: str | None
    label: str | None
    at: float

    def summary(self) -> str:
        what = self.label or "an undecodable entry"
        return f"{what} in {self.lane}: {self.reason}"


def parse_record(record: str) -> DeadLetter | None:
    try:
        return DeadLetter(**json.loads(record))
    except (ValueError, TypeError):
        return None


class DeadLetters:
    def __init__(self, store: OutboxStore, outbox: Outbox) -> None:
        self._store = store
        self._outbox = outbox

    async def bury(self, lane: str, entry: LaneEntry, op: AnyOp | None, refusal: Refusal) -> None:
        if op is not None:
            await self._store.mark_failed(op.op_id, refusal.reason)
            if isinstance(op, SyncSlot):
                await self._store.fail_slot(op.slot, refusal.reason)
        letter = DeadLetter(
            lane=lane,
            entry_id=entry.entry_id,
            code=refusal.code,
            reason=refusal.reason,
            op_id=op.op_id if op else None,
            kind=op.kind if op else None,
            label=op.label if op else None,
            at=time.time(),
        )
        await self._store.dead_letter(lane, entry.entry_id, json.dumps(asdict(letter)))
        telemetry.OUTBOX_DEAD_LETTERED.labels(reason=refusal.code).inc()
        log.error(
            "a Slack write was moved to the dead-letter list",
            lane=lane,
            op=letter.op_id,
            what=letter.label,
            code=refusal.code,
            reason=refusal.reason,
        )
        if op is not None and op.thread and op.report_failure and refusal.tell_thread:
            await self._tell_thread(op, refusal)

    async def _tell_thread(self, op: AnyOp, refusal: Refusal) -> None:
        text = (
            f":warning: {op.label[:1].upper()}{op.label[1:]} could not be posted in this "
            f"thread: {refusal.reason}. It will not be retried."
        )
        await self._outbox.send(
            Post(
                op_id=f"{op.op_id}:refused",
                channel=op.channel,
                text=text,
                thread=op.thread,
                label="a note about a part that could not be posted",
                report_failure=False,
            )
        )
