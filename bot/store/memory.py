"""In-memory store for a single process: development, tests, and deployments without Redis.

Every operation runs without awaiting, so each one is atomic under asyncio; the store is not
meant to be shared between threads. Expiry uses an injectable monotonic clock so tests can move
time forward instead of sleeping. State is lost when the process exits.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.store.base import StoreUnavailable, checked_ttl
from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS, KeySpace

Clock = Callable[[], float]

# Expired entries are dropped lazily on read, and by a full sweep every this many writes so
# keys that are never read again do not accumulate.
_SWEEP_EVERY_WRITES = 512


@dataclass
class _Entry:
    value: str
    expires_at: float | None = None


@dataclass
class _Timeline:
    entries: list[str] = field(default_factory=list)
    expires_at: float | None = None


@dataclass
class _Lease:
    consumer: str
    expires_at: float


class MemoryStore:
    """The Store contract kept in dictionaries."""

    def __init__(self, *, clock: Clock = time.monotonic, wall_clock: Clock = time.time) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._opened_at: dict[str, float] = {}
        self._keys = KeySpace("memory:")
        self._strings: dict[str, _Entry] = {}
        self._timelines: dict[str, _Timeline] = {}
        self._open: dict[str, int] = {}
        self._outbox: dict[str, str] = {}
        self._leases: dict[str, _Lease] = {}
        self._sequence = 0
        self._writes = 0
        self._closed = False

    @property
    def name(self) -> str:
        return "memory"

    async def ping(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True

    def held_key_count(self) -> int:
        """Keys held in memory, including expired ones not yet swept."""
        return len(self._strings) + len(self._timelines)

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        return self._set_if_absent(self._keys.claim(key), "1", checked_ttl(ttl_seconds))

    async def release_claim(self, key: str) -> None:
        self._delete(self._keys.claim(key))

    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        if open:
            self._open_incident(incident_id, group_key, document)
        else:
            self._resolve_incident(incident_id, group_key, document)

    async def get_incident(self, incident_id: str) -> str | None:
        return self._get(self._keys.incident(incident_id))

    async def incident_for_group(self, group_key: str) -> str | None:
        return self._get(self._keys.incident_group(group_key))

    async def open_incident_ids(self) -> list[str]:
        self._check_open()
        return sorted(self._open, key=self._open.__getitem__, reverse=True)

    async def create_incident_if_absent(
        self, group_key: str, incident_id: str, document: str
    ) -> str:
        owner = self._get(self._keys.incident_group(group_key))
        if owner is not None:
            return owner
        self._open_incident(incident_id, group_key, document)
        self._note_opened(incident_id)
        return incident_id

    def _note_opened(self, incident_id: str) -> None:
        now = self._wall_clock()
        self._opened_at.setdefault(incident_id, now)
        horizon = now - RESOLVED_INCIDENT_TTL_SECONDS
        for stale in [i for i, at in self._opened_at.items() if at < horizon]:
            del self._opened_at[stale]

    async def incident_ids_opened_since(self, since: float) -> list[str]:
        self._check_open()
        found = [(at, i) for i, at in self._opened_at.items() if at >= since]
        return [incident_id for _, incident_id in sorted(found)]

    async def append_timeline(self, incident_id: str, entry: str) -> None:
        self._wrote()
        timeline = self._live_timeline(incident_id) or _Timeline()
        timeline.entries.append(entry)
        document = self._live_entry(self._keys.incident(incident_id))
        timeline.expires_at = document.expires_at if document else None
        self._timelines[incident_id] = timeline

    async def timeline(self, incident_id: str) -> list[str]:
        timeline = self._live_timeline(incident_id)
        return list(timeline.entries) if timeline else []

    async def outbox_push(self, item: str) -> str:
        self._wrote()
        entry_id = str(self._next_sequence())
        self._outbox[entry_id] = item
        return entry_id

    async def outbox_claim(
        self, consumer: str, lease_seconds: float, limit: int
    ) -> list[tuple[str, str]]:
        self._check_open()
        lease_expires_at = self._now() + checked_ttl(lease_seconds)
        claimed: list[tuple[str, str]] = []
        for entry_id, item in self._outbox.items():
            if len(claimed) >= limit:
                break
            lease = self._leases.get(entry_id)
            if lease is None or lease.expires_at <= self._now():
                self._leases[entry_id] = _Lease(consumer, lease_expires_at)
                claimed.append((entry_id, item))
        return claimed

    async def outbox_ack(self, entry_id: str) -> None:
        self._check_open()
        self._outbox.pop(entry_id, None)
        self._leases.pop(entry_id, None)

    async def outbox_pending_count(self) -> int:
        self._check_open()
        return len(self._outbox)

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        acquired = self._set_if_absent(self._keys.lock(name), token, checked_ttl(ttl_seconds))
        return token if acquired else None

    async def release_lock(self, name: str, token: str) -> bool:
        key = self._keys.lock(name)
        if self._get(key) != token:
            return False
        self._delete(key)
        return True

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        entry = self._live_entry(self._keys.lock(name))
        if entry is None or entry.value != token:
            return False
        entry.expires_at = self._now() + checked_ttl(ttl_seconds)
        return True

    async def get_value(self, key: str) -> str | None:
        return self._get(self._keys.value(key))

    async def set_value(self, key: str, value: str, ttl_seconds: float | None) -> None:
        expires_at = None if ttl_seconds is None else self._now() + checked_ttl(ttl_seconds)
        self._wrote()
        self._strings[self._keys.value(key)] = _Entry(value, expires_at)

    # Incidents

    def _open_incident(self, incident_id: str, group_key: str, document: str) -> None:
        self._wrote()
        self._strings[self._keys.incident(incident_id)] = _Entry(document)
        self._strings[self._keys.incident_group(group_key)] = _Entry(incident_id)
        self._open.setdefault(incident_id, self._next_sequence())
        timeline = self._timelines.get(incident_id)
        if timeline is not None:
            timeline.expires_at = None

    def _resolve_incident(self, incident_id: str, group_key: str, document: str) -> None:
        self._wrote()
        expires_at = self._now() + RESOLVED_INCIDENT_TTL_SECONDS
        self._strings[self._keys.incident(incident_id)] = _Entry(document, expires_at)
        self._open.pop(incident_id, None)
        group = self._keys.incident_group(group_key)
        if self._get(group) == incident_id:
            self._delete(group)
        timeline = self._live_timeline(incident_id)
        if timeline is not None:
            timeline.expires_at = expires_at

    def _live_timeline(self, incident_id: str) -> _Timeline | None:
        self._check_open()
        timeline = self._timelines.get(incident_id)
        if timeline is not None and self._expired(timeline.expires_at):
            del self._timelines[incident_id]
            return None
        return timeline

    # Expiring strings

    def _get(self, key: str) -> str | None:
        entry = self._live_entry(key)
        return entry.value if entry else None

    def _live_entry(self, key: str) -> _Entry | None:
        self._check_open()
        entry = self._strings.get(key)
        if entry is not None and self._expired(entry.expires_at):
            del self._strings[key]
            return None
        return entry

    def _set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        if self._live_entry(key) is not None:
            return False
        self._wrote()
        self._strings[key] = _Entry(value, self._now() + ttl_seconds)
        return True

    def _delete(self, key: str) -> None:
        self._check_open()
        self._strings.pop(key, None)

    # Housekeeping

    def _now(self) -> float:
        return self._clock()

    def _expired(self, expires_at: float | None) -> bool:
        return expires_at is not None and expires_at <= self._now()

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the in-memory store has been closed")

    def _wrote(self) -> None:
        self._check_open()
        self._writes += 1
        if self._writes % _SWEEP_EVERY_WRITES == 0:
            self._sweep()

    def _sweep(self) -> None:
        self._strings = {k: e for k, e in self._strings.items() if not self._expired(e.expires_at)}
        self._timelines = {
            k: t for k, t in self._timelines.items() if not self._expired(t.expires_at)
        }
