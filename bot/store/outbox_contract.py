"""The outbox's part of the store: one ordered lane of queued Slack writes per channel.

A lane is a Redis Stream with one consumer group. At most one process owns a lane at a time,
through a lease (a token with an expiry the owner keeps renewing); only the owner reads it, so
writes to a channel keep their order and their pace across any number of replicas. Reading is
fenced by the lease: a process that lost it gets None instead of entries. A new owner first takes
over what its predecessor read and never acknowledged, then reads new entries. Every read costs
the same however long the lane is.

Message slots coalesce edits: a producer writes a slot's desired content and a sync of the slot
is queued only if none is pending, so any number of changes cost one queued entry.

Example (what `bot.outbox.lane` does)::

    token = await store.claim_lane("C0INCIDENTS", ttl_seconds=6)
    if token:
        for entry in await store.fetch_lane("C0INCIDENTS", token, "replica-a", limit=20) or []:
            ...  # deliver, then
            await store.ack_entry("C0INCIDENTS", entry.entry_id)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LaneEntry:
    """A queued write as its lane hands it out.

    `requeues` counts how often it was put back at the tail because it could not go yet, and
    `not_before` (Unix seconds) says when it may be tried again. `taken_over` is True when a
    previous owner had read it without acknowledging it.
    """

    entry_id: str
    item: str
    requeues: int = 0
    not_before: float = 0.0
    taken_over: bool = False


@dataclass(frozen=True)
class SlotState:
    """A message slot: the content it should show, its version, the version last shown, and
    why it was given up for good (if it was)."""

    content: str
    version: int
    synced: int
    failed: str | None = None


@dataclass(frozen=True)
class OpRecord:
    """What is known of one write: when it was attempted (and by whom), what Slack assigned
    (a message ts or a file id), or why it was given up."""

    attempt: str | None = None
    done: str | None = None
    failed: str | None = None


class LaneLost(Exception):
    """The lane's lease is held by another token now: stop writing for it."""


@dataclass(frozen=True)
class Fence:
    """The lane lease a write is made under: only its holder may mark an attempt."""

    lane: str
    token: str


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    oldest_age_seconds: float
    dead_letters: int


class OutboxStore(Protocol):
    async def enqueue(self, lane: str, item: str) -> str:
        """Append `item` to `lane` (creating it) and list the lane as having work."""
        ...

    async def write_slot(self, lane: str, slot: str, content: str, item: str) -> bool:
        """Store `content` as the slot's desired content (a new version) and append `item`,
        its sync, to `lane` unless a sync is already pending or the slot was given up.
        True if `item` was queued."""
        ...

    async def read_slot(self, slot: str) -> SlotState | None: ...

    async def finish_slot_sync(
        self, lane: str, entry_id: str, slot: str, version: int, item: str
    ) -> bool:
        """Record that `version` of the slot is shown and acknowledge its sync entry. If a newer
        version was written meanwhile, queue `item` again at the tail instead of ending the
        pending sync (atomically, so no change is lost and no second sync is queued).
        True when the slot is up to date."""
        ...

    async def fail_slot(self, slot: str, reason: str) -> None:
        """Give the slot up: no more syncs are queued for it."""
        ...

    async def op_record(self, op_id: str) -> OpRecord: ...

    async def mark_attempt(
        self, op_id: str, attempt: str, *, fence: Fence, expected: str | None
    ) -> str | None:
        """Record, before writing to Slack, that the write is being attempted.

        `attempt` is "<unix time> <consumer>". Atomically: raises LaneLost unless `fence` still
        holds its lane; returns the marker found instead of writing when another consumer's
        marker is there that the caller did not expect (it did not look that attempt up);
        else writes it and returns None. Durable, like `set_value(durable=True)`, so a
        failover cannot forget a write that may have landed.
        """
        ...

    async def mark_done(self, op_id: str, result: str) -> None: ...

    async def mark_failed(self, op_id: str, reason: str) -> None: ...

    async def lanes(self) -> list[str]:
        """Lanes with queued work, the longest waiting first."""
        ...

    async def claim_lane(self, lane: str, ttl_seconds: float) -> str | None:
        """A token if the lane had no owner, else None."""
        ...

    async def renew_lane(self, lane: str, token: str, ttl_seconds: float) -> bool: ...

    async def release_lane(self, lane: str, token: str) -> bool: ...

    async def owns_lane(self, lane: str, token: str) -> bool:
        """Whether `token` holds the lane's lease now."""
        ...

    async def fetch_lane(
        self, lane: str, token: str, consumer: str, limit: int
    ) -> list[LaneEntry] | None:
        """Up to `limit` entries, oldest first: those `consumer` already holds, else those a
        previous owner held, else new ones. None if `token` no longer owns the lane."""
        ...

    async def peek_lane(self, lane: str, limit: int) -> list[LaneEntry]:
        """The first `limit` entries of the lane, read or not, without taking any (for
        operators and tests)."""
        ...

    async def ack_entry(self, lane: str, entry_id: str) -> None:
        """The entry is done: remove it from the lane."""
        ...

    async def requeue_entry(
        self, lane: str, entry_id: str, item: str, requeues: int, not_before: float
    ) -> str:
        """Put the entry back at the tail (atomically: never lost, never twice)."""
        ...

    async def dead_letter(self, lane: str, entry_id: str, record: str) -> None:
        """Move the entry to the dead-letter list, described by `record` (atomically)."""
        ...

    async def retire_lane(self, lane: str, token: str) -> bool:
        """If `token` owns the lane and it is empty, remove it and release the lease."""
        ...

    async def dead_letters(self, limit: int) -> list[str]:
        """The latest dead-letter records, newest first."""
        ...

    async def outbox_stats(self) -> OutboxStats: ...
