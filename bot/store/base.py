"""The state store contract, split by concern, shared by the Redis and in-memory backends.

Each consumer asks for the protocol it uses: the incident layer for `IncidentStore`, the outbox
for `OutboxStore` (in `bot.store.outbox_contract`), anything that must outlive a process for
`LeaseStore`, caches, claims and counters for `ValueStore`. `Store` is all of them plus the
connection's lifecycle; `open_store` returns one.

Values cross this boundary as plain strings (JSON documents for incidents and outbox items), so
the store knows nothing about the models it keeps. Both backends pass the same contract tests in
``tests/store``; read those for the exact behaviour of each operation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.store.outbox_contract import OutboxStore


class StoreUnavailable(Exception):
    """The store cannot be reached (connection refused, timed out, or the store was closed)."""


@dataclass(frozen=True)
class FiringChange:
    """An incident's alerts after folding some in: how many fire now, and how many distinct
    alerts it has received. Both are absolute, so repeating a fold changes neither."""

    firing: int
    received: int


class ValueStore(Protocol):
    """Small shared values: idempotency claims, cached documents, rate limits, pacing.

    Example::

        if await store.claim_once(keys.notification(digest), IDEMPOTENCY_TTL_SECONDS):
            ...  # first delivery: process it
    """

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        """True for the first caller with `key` until it expires; False for every later one."""
        ...

    async def release_claim(self, key: str) -> None:
        """Forget `key`, for example when processing it failed and a retry should run."""
        ...

    async def get_value(self, key: str) -> str | None:
        """The value stored under `key`, or None if unset or expired."""
        ...

    async def set_value(
        self, key: str, value: str, ttl_seconds: float | None, *, durable: bool = False
    ) -> None:
        """Store `value`; with a TTL it expires, with None it is kept until overwritten.

        `durable` returns only once the store's replicas (if it has any) confirmed this write
        and every write before it, so a failover cannot forget them; else StoreUnavailable.
        """
        ...

    async def take_rate_slot(self, name: str, runs: int, per_seconds: float) -> float:
        """Use one of `runs` slots in any `per_seconds` window, atomically.

        Returns 0 when a slot was taken, else the seconds until one frees up.
        """
        ...

    async def touch_member(self, name: str, member: str, keep_seconds: float, most: int) -> None:
        """Note `member` as seen now in the set `name`, which keeps the `most` latest members
        seen within `keep_seconds`."""
        ...

    async def recent_members(self, name: str, keep_seconds: float) -> list[str]:
        """Members of `name` seen within `keep_seconds`, the most recent first."""
        ...

    async def reserve_pace(self, name: str, interval_seconds: float, burst: int) -> float:
        """Reserve the next turn of a shared pace: one turn per `interval_seconds` on average,
        up to `burst` at once after a quiet spell. Returns how long to wait before using it."""
        ...

    async def hold_pace(self, name: str, seconds: float) -> None:
        """Give out no turn of pace `name` for `seconds` from now (a 429's Retry-After)."""
        ...


class LeaseStore(Protocol):
    """Locks and leases with tokens, and a registry of work that must survive its worker.

    A lease is a lock its holder keeps extending while it works; when the holder dies, the
    lease expires and another process may take it (see `bot.runtime.leases.held_lease`).
    """

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        """A fresh token if the lock was free (it expires after `ttl_seconds`), else None."""
        ...

    async def release_lock(self, name: str, token: str) -> bool:
        """Release the lock if `token` still holds it; False if it expired or is held by another."""
        ...

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        """Reset the expiry to `ttl_seconds` from now if `token` still holds the lock."""
        ...

    async def register_work(
        self, kind: str, item: str, document: str, *, once: str | None, once_ttl: float
    ) -> bool:
        """Record `item` of `kind` as work to finish, described by `document`.

        With `once`, the work is registered only by the first caller with that key (until it
        expires after `once_ttl`); False for every later one.
        """
        ...

    async def unfinished_work(self, kind: str) -> dict[str, str]:
        """Registered work of `kind` not yet finished: item -> document."""
        ...

    async def finish_work(self, kind: str, item: str, document: str) -> bool:
        """Remove `item` if its document is still `document` (a newer registration stays)."""
        ...


class IncidentStore(Protocol):
    """Incident documents, their group ownership, timelines and firing alert fingerprints."""

    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        """Write an incident document.

        An open incident owns its group and is listed by open_incident_ids. Resolving it
        (``open=False``) frees the group for a new incident and makes the document, its
        timeline and its firing set expire after RESOLVED_INCIDENT_TTL_SECONDS; reopening
        keeps them again.
        """
        ...

    async def get_incident(self, incident_id: str) -> str | None:
        """The stored document, or None if unknown or expired."""
        ...

    async def incident_for_group(self, group_key: str) -> str | None:
        """The id of the open incident that owns `group_key`, if any."""
        ...

    async def open_incident_ids(self) -> list[str]:
        """Ids of open incidents, the most recently opened first."""
        ...

    async def create_incident_if_absent(
        self, group_key: str, incident_id: str, document: str
    ) -> str:
        """Atomically open `incident_id` for `group_key` unless an open incident owns it.

        Returns the id of the owner: `incident_id` if this call created it, otherwise the id of
        the incident created first, whose document is left untouched.
        """
        ...

    async def incident_ids_opened_since(self, since: float) -> list[str]:
        """Ids of incidents first opened at or after `since` (Unix seconds), oldest first.

        Kept for RESOLVED_INCIDENT_TTL_SECONDS; reopening an incident does not move it.
        """
        ...

    async def append_timeline(self, incident_id: str, entry: str) -> None:
        """Append one entry to the incident's timeline."""
        ...

    async def timeline(self, incident_id: str) -> list[str]:
        """Timeline entries, oldest first."""
        ...

    async def update_firing(
        self, incident_id: str, firing: Mapping[str, str], cleared: Sequence[str]
    ) -> FiringChange:
        """Add `firing` (fingerprint -> start) to the incident's firing set and to the alerts
        it received, and remove `cleared` from the firing set, atomically. Both sets live
        beside the document, with its lifetime."""
        ...

    async def firing_fingerprints(self, incident_id: str) -> dict[str, str]:
        """The incident's firing set: fingerprint -> when that alert started."""
        ...


class Store(ValueStore, LeaseStore, IncidentStore, OutboxStore, Protocol):
    """Every concern of the bot's shared state behind one connection.

    Example::

        store = await open_store(settings.redis_target())
        repository = IncidentRepository(store)      # asks for IncidentStore & friends
        await store.close()
    """

    @property
    def name(self) -> str:
        """The backend in use: ``"redis"`` or ``"memory"``."""
        ...

    async def ping(self) -> None:
        """Return if the store answers; raise StoreUnavailable otherwise."""
        ...

    async def close(self) -> None:
        """Release connections. Later operations raise StoreUnavailable."""
        ...


def checked_ttl(ttl_seconds: float) -> float:
    """Reject TTLs that would make a key expire at once, or never."""
    if not (ttl_seconds > 0 and math.isfinite(ttl_seconds)):
        raise ValueError(f"ttl_seconds must be a positive number of seconds, got {ttl_seconds!r}")
    return ttl_seconds
