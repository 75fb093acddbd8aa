"""The state store contract shared by the Redis and in-memory backends.

Values cross this boundary as plain strings (JSON documents for incidents and outbox items), so
the store knows nothing about the models it keeps. Both backends pass the same contract tests in
``tests/store``; read those for the exact behaviour of each operation.
"""

from __future__ import annotations

import math
from typing import Protocol


class StoreUnavailable(Exception):
    """The store cannot be reached (connection refused, timed out, or the store was closed)."""


class Store(Protocol):
    """Async access to the bot's shared state.

    Example::

        store = await open_store(settings.REDIS_URL and settings.REDIS_URL.get_secret_value())
        if await store.claim_once(f"alertmanager:{fingerprint}", IDEMPOTENCY_TTL_SECONDS):
            ...  # first delivery: process it
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

    # Idempotency

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        """True for the first caller with `key` until it expires; False for every later one."""
        ...

    async def release_claim(self, key: str) -> None:
        """Forget `key`, for example when processing it failed and a retry should run."""
        ...

    # Incidents

    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        """Write an incident document.

        An open incident owns its group and is listed by open_incident_ids. Resolving it
        (``open=False``) frees the group for a new incident and makes the document and its
        timeline expire after RESOLVED_INCIDENT_TTL_SECONDS; reopening keeps them again.
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

    # Outbox: at-least-once delivery of queued writes

    async def outbox_push(self, item: str) -> str:
        """Queue `item` and return its entry id."""
        ...

    async def outbox_claim(
        self, consumer: str, lease_seconds: float, limit: int
    ) -> list[tuple[str, str]]:
        """Lease up to `limit` entries as ``(entry_id, item)``, oldest first.

        Entries already leased are skipped until their lease expires; then any consumer may
        claim them again, which is how the work of a crashed worker is resumed.
        """
        ...

    async def outbox_ack(self, entry_id: str) -> None:
        """Mark an entry delivered and remove it from the outbox."""
        ...

    async def outbox_pending_count(self) -> int:
        """Entries not yet acknowledged, leased or not."""
        ...

    # Locks

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        """A fresh token if the lock was free (it expires after `ttl_seconds`), else None."""
        ...

    async def release_lock(self, name: str, token: str) -> bool:
        """Release the lock if `token` still holds it; False if it expired or is held by another."""
        ...

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        """Reset the expiry to `ttl_seconds` from now if `token` still holds the lock."""
        ...

    # Small values (caches, cursors, flags)

    async def get_value(self, key: str) -> str | None:
        """The value stored under `key`, or None if unset or expired."""
        ...

    async def set_value(self, key: str, value: str, ttl_seconds: float | None) -> None:
        """Store `value`; with a TTL it expires, with None it is kept until overwritten."""
        ...


def checked_ttl(ttl_seconds: float) -> float:
    """Reject TTLs that would make a key expire at once, or never."""
    if not (ttl_seconds > 0 and math.isfinite(ttl_seconds)):
        raise ValueError(f"ttl_seconds must be a positive number of seconds, got {ttl_seconds!r}")
    return ttl_seconds
