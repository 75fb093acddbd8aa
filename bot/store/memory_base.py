"""What every part of the in-memory backend shares: clocks, expiring strings, housekeeping.

Every operation runs without awaiting, so each one is atomic under asyncio; the store is not
meant to be shared between threads. Expiry uses an injectable monotonic clock so tests can move
time forward instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.store.base import StoreUnavailable
from bot.store.keys import KeySpace

Clock = Callable[[], float]

# Expired entries are dropped lazily on read, and by a full sweep every this many writes so
# keys that are never read again do not accumulate.
_SWEEP_EVERY_WRITES = 512


@dataclass
class Entry:
    value: str
    expires_at: float | None = None


class MemoryBase:
    def __init__(self, *, clock: Clock = time.monotonic, wall_clock: Clock = time.time) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._keys = KeySpace("memory:")
        self._strings: dict[str, Entry] = {}
        self._writes = 0
        self._closed = False

    def _now(self) -> float:
        return self._clock()

    def _expired(self, expires_at: float | None) -> bool:
        return expires_at is not None and expires_at <= self._now()

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

    def _get(self, key: str) -> str | None:
        entry = self._live_entry(key)
        return entry.value if entry else None

    def _live_entry(self, key: str) -> Entry | None:
        self._check_open()
        entry = self._strings.get(key)
        if entry is not None and self._expired(entry.expires_at):
            del self._strings[key]
            return None
        return entry

    def _set(self, key: str, value: str, ttl_seconds: float | None) -> None:
        self._wrote()
        expires_at = None if ttl_seconds is None else self._now() + ttl_seconds
        self._strings[key] = Entry(value, expires_at)

    def _set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        if self._live_entry(key) is not None:
            return False
        self._set(key, value, ttl_seconds)
        return True

    def _delete(self, key: str) -> None:
        self._check_open()
        self._strings.pop(key, None)

    def _delete_if(self, key: str, value: str) -> bool:
        if self._get(key) != value:
            return False
        self._delete(key)
        return True

    def _extend_if(self, key: str, value: str, ttl_seconds: float) -> bool:
        entry = self._live_entry(key)
        if entry is None or entry.value != value:
            return False
        entry.expires_at = self._now() + ttl_seconds
        return True
