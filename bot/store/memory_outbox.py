"""The outbox protocol in memory: the same lanes, leases, slots and dead letters as on Redis,
for the one-process case."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from itertools import islice

from bot.store.base import checked_ttl
from bot.store.keys import DEAD_LETTERS_KEPT, OUTBOX_RECORD_TTL_SECONDS
from bot.store.memory_base import Clock, MemoryBase
from bot.store.outbox_contract import (
    Fence,
    LaneEntry,
    LaneLost,
    OpRecord,
    OutboxStats,
    SlotState,
)

# A pending sync older than this is assumed lost and queued again (a second sync is harmless).
_STALE_PENDING_SECONDS = 600.0


@dataclass
class _Queued:
    item: str
    requeues: int
    not_before: float
    queued_at: float


@dataclass
class _Lane:
    since: float
    entries: dict[int, _Queued] = field(default_factory=dict)
    holders: dict[int, str] = field(default_factory=dict)  # read, unacknowledged: by whom
    last_read: int = 0


@dataclass
class _Slot:
    content: str
    version: int = 0
    synced: int = 0
    pending_at: float | None = None
    failed: str | None = None
    expires_at: float = 0.0


@dataclass
class _Record:
    fields: dict[str, str] = field(default_factory=dict)
    expires_at: float = 0.0


class MemoryOutbox(MemoryBase):
    def __init__(self, *, clock: Clock, wall_clock: Clock) -> None:
        super().__init__(clock=clock, wall_clock=wall_clock)
        self._lanes: dict[str, _Lane] = {}
        self._slots: dict[str, _Slot] = {}
        self._records: dict[str, _Record] = {}
        self._dead: deque[str] = deque(maxlen=DEAD_LETTERS_KEPT)
        self._entry_sequence = 0

    async def enqueue(self, lane: str, item: str) -> str:
        self._wrote()
        return self._append(lane, item, 0, 0.0)

    def _append(self, lane: str, item: str, requeues: int, not_before: float) -> str:
        self._entry_sequence += 1
        queue = self._lanes.setdefault(lane, _Lane(since=self._now()))
        queue.entries[self._entry_sequence] = _Queued(item, requeues, not_before, self._now())
        return f"{self._entry_sequence}-0"

    async def write_slot(self, lane: str, slot: str, content: str, item: str) -> bool:
        self._wrote()
        state = self._live_slot(slot) or _Slot(content)
        state.content, state.version = content, state.version + 1
        state.expires_at = self._now() + OUTBOX_RECORD_TTL_SECONDS
        self._slots[slot] = state
        fresh = state.pending_at is not None and (
            self._now() - state.pending_at < _STALE_PENDING_SECONDS
        )
        if state.failed is not None or fresh:
            return False
        state.pending_at = self._now()
        self._append(lane, item, 0, 0.0)
        return True

    async def read_slot(self, slot: str) -> SlotState | None:
        state = self._live_slot(slot)
        if state is None:
            return None
        return SlotState(state.content, state.version, state.synced, state.failed)

    async def finish_slot_sync(
        self, lane: str, entry_id: str, slot: str, version: int, item: str
    ) -> bool:
        await self.ack_entry(lane, entry_id)
        state = self._live_slot(slot)
        if state is None:
            return True
        state.synced = max(state.synced, version)
        if state.version <= version or state.failed is not None:
            state.pending_at = None
            return True
        state.pending_at = self._now()
        self._append(lane, item, 0, 0.0)
        return False

    async def fail_slot(self, slot: str, reason: str) -> None:
        self._wrote()
        state = self._live_slot(slot) or _Slot("")
        state.failed, state.pending_at = reason, None
        state.expires_at = self._now() + OUTBOX_RECORD_TTL_SECONDS
        self._slots[slot] = state

    async def op_record(self, op_id: str) -> OpRecord:
        self._check_open()
        record = self._records.get(op_id)
        if record is None or self._expired(record.expires_at):
            return OpRecord()
        fields = record.fields
        return OpRecord(fields.get("attempt"), fields.get("done"), fields.get("failed"))

    async def mark_attempt(
        self, op_id: str, attempt: str, *, fence: Fence, expected: str | None
    ) -> str | None:
        if self._get(self._keys.lane_owner(fence.lane)) != fence.token:
            raise LaneLost(fence.lane)
        current = (await self.op_record(op_id)).attempt or ""
        mine = attempt.partition(" ")[2]
        if current and current != (expected or "") and current.partition(" ")[2] != mine:
            return current
        self._mark(op_id, "attempt", attempt)
        return None

    async def mark_done(self, op_id: str, result: str) -> None:
        self._mark(op_id, "done", result)

    async def mark_failed(self, op_id: str, reason: str) -> None:
        self._mark(op_id, "failed", reason)

    def _mark(self, op_id: str, name: str, value: str) -> None:
        self._wrote()
        record = self._records.get(op_id)
        if record is None or self._expired(record.expires_at):
            record = self._records[op_id] = _Record()
        record.fields[name] = value
        record.expires_at = self._now() + OUTBOX_RECORD_TTL_SECONDS

    async def lanes(self) -> list[str]:
        self._check_open()
        return sorted(self._lanes, key=lambda lane: self._lanes[lane].since)

    async def claim_lane(self, lane: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        taken = self._set_if_absent(self._keys.lane_owner(lane), token, checked_ttl(ttl_seconds))
        return token if taken else None

    async def renew_lane(self, lane: str, token: str, ttl_seconds: float) -> bool:
        return self._extend_if(self._keys.lane_owner(lane), token, checked_ttl(ttl_seconds))

    async def release_lane(self, lane: str, token: str) -> bool:
        return self._delete_if(self._keys.lane_owner(lane), token)

    async def owns_lane(self, lane: str, token: str) -> bool:
        return self._get(self._keys.lane_owner(lane)) == token

    async def fetch_lane(
        self, lane: str, token: str, consumer: str, limit: int
    ) -> list[LaneEntry] | None:
        if self._get(self._keys.lane_owner(lane)) != token:
            return None
        queue = self._lanes.get(lane)
        if queue is None:
            return []
        limit = max(1, limit)
        own = sorted(n for n, holder in queue.holders.items() if holder == consumer)[:limit]
        if own:
            return [self._lane_entry(queue, n, taken_over=False) for n in own]
        others = sorted(queue.holders)[:limit]
        if others:
            queue.holders.update(dict.fromkeys(others, consumer))
            return [self._lane_entry(queue, n, taken_over=True) for n in others]
        fresh = list(islice((n for n in queue.entries if n > queue.last_read), limit))
        queue.holders.update(dict.fromkeys(fresh, consumer))
        if fresh:
            queue.last_read = fresh[-1]
        return [self._lane_entry(queue, n, taken_over=False) for n in fresh]

    def _lane_entry(self, queue: _Lane, number: int, *, taken_over: bool) -> LaneEntry:
        queued = queue.entries[number]
        return LaneEntry(f"{number}-0", queued.item, queued.requeues, queued.not_before, taken_over)

    async def peek_lane(self, lane: str, limit: int) -> list[LaneEntry]:
        self._check_open()
        queue = self._lanes.get(lane)
        if queue is None:
            return []
        numbers = list(islice(queue.entries, max(1, limit)))
        return [self._lane_entry(queue, n, taken_over=False) for n in numbers]

    async def ack_entry(self, lane: str, entry_id: str) -> None:
        self._check_open()
        queue = self._lanes.get(lane)
        number = _number(entry_id)
        if queue is not None and number is not None:
            queue.entries.pop(number, None)
            queue.holders.pop(number, None)

    async def requeue_entry(
        self, lane: str, entry_id: str, item: str, requeues: int, not_before: float
    ) -> str:
        await self.ack_entry(lane, entry_id)
        return self._append(lane, item, requeues, not_before)

    async def dead_letter(self, lane: str, entry_id: str, record: str) -> None:
        await self.ack_entry(lane, entry_id)
        self._dead.appendleft(record)

    async def retire_lane(self, lane: str, token: str) -> bool:
        if self._get(self._keys.lane_owner(lane)) != token:
            return False
        queue = self._lanes.get(lane)
        if queue is not None and queue.entries:
            return False
        self._lanes.pop(lane, None)
        self._delete(self._keys.lane_owner(lane))
        return True

    async def dead_letters(self, limit: int) -> list[str]:
        self._check_open()
        return list(self._dead)[: max(0, limit)]

    async def outbox_stats(self) -> OutboxStats:
        self._check_open()
        queued = [q for lane in self._lanes.values() for q in lane.entries.values()]
        oldest = min((q.queued_at for q in queued), default=None)
        age = 0.0 if oldest is None else max(0.0, self._now() - oldest)
        return OutboxStats(
            pending=len(queued), oldest_age_seconds=age, dead_letters=len(self._dead)
        )

    def _live_slot(self, slot: str) -> _Slot | None:
        self._check_open()
        state = self._slots.get(slot)
        if state is not None and self._expired(state.expires_at):
            del self._slots[slot]
            return None
        return state

    def _sweep(self) -> None:
        super()._sweep()
        self._slots = {k: s for k, s in self._slots.items() if not self._expired(s.expires_at)}
        self._records = {k: r for k, r in self._records.items() if not self._expired(r.expires_at)}


def _number(entry_id: str) -> int | None:
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else None
