"""Small values, claims, rate limits, paces, locks and registered work, in memory."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass

from bot.store.base import checked_ttl
from bot.store.memory_base import Clock, MemoryBase


@dataclass
class _Pace:
    tat: float = 0.0
    hold: float = 0.0


class MemoryValues(MemoryBase):
    def __init__(self, *, clock: Clock, wall_clock: Clock) -> None:
        super().__init__(clock=clock, wall_clock=wall_clock)
        self._windows: dict[str, deque[float]] = {}
        self._members: dict[str, dict[str, float]] = {}
        self._paces: dict[str, _Pace] = {}

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        return self._set_if_absent(self._keys.claim(key), "1", checked_ttl(ttl_seconds))

    async def release_claim(self, key: str) -> None:
        self._delete(self._keys.claim(key))

    async def get_value(self, key: str) -> str | None:
        return self._get(self._keys.value(key))

    async def set_value(
        self, key: str, value: str, ttl_seconds: float | None, *, durable: bool = False
    ) -> None:
        ttl = None if ttl_seconds is None else checked_ttl(ttl_seconds)
        self._set(self._keys.value(key), value, ttl)

    async def take_rate_slot(self, name: str, runs: int, per_seconds: float) -> float:
        self._wrote()
        window, now = checked_ttl(per_seconds), self._now()
        taken = self._windows.setdefault(name, deque())
        while taken and taken[0] <= now - window:
            taken.popleft()
        if len(taken) < runs:
            taken.append(now)
            return 0.0
        return max(0.001, taken[0] + window - now)

    async def touch_member(self, name: str, member: str, keep_seconds: float, most: int) -> None:
        self._wrote()
        now = self._now()
        seen = self._members.setdefault(name, {})
        seen.pop(member, None)
        seen[member] = now
        for stale in [m for m, at in seen.items() if at <= now - checked_ttl(keep_seconds)]:
            del seen[stale]
        while len(seen) > most:
            del seen[next(iter(seen))]

    async def recent_members(self, name: str, keep_seconds: float) -> list[str]:
        self._check_open()
        cutoff = self._now() - checked_ttl(keep_seconds)
        seen = self._members.get(name, {})
        return [member for member, at in reversed(seen.items()) if at > cutoff]

    async def reserve_pace(self, name: str, interval_seconds: float, burst: int) -> float:
        self._wrote()
        now, interval = self._now(), checked_ttl(interval_seconds)
        pace = self._paces.setdefault(name, _Pace())
        tat = max(pace.tat, now, pace.hold)
        start = max(now, pace.hold, tat - (max(1, burst) - 1) * interval)
        pace.tat = tat + interval
        return start - now

    async def hold_pace(self, name: str, seconds: float) -> None:
        self._wrote()
        pace = self._paces.setdefault(name, _Pace())
        pace.hold = max(pace.hold, self._now() + checked_ttl(seconds))


class MemoryLeases(MemoryBase):
    def __init__(self, *, clock: Clock, wall_clock: Clock) -> None:
        super().__init__(clock=clock, wall_clock=wall_clock)
        self._work: dict[str, dict[str, str]] = {}

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        acquired = self._set_if_absent(self._keys.lock(name), token, checked_ttl(ttl_seconds))
        return token if acquired else None

    async def release_lock(self, name: str, token: str) -> bool:
        return self._delete_if(self._keys.lock(name), token)

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        return self._extend_if(self._keys.lock(name), token, checked_ttl(ttl_seconds))

    async def register_work(
        self, kind: str, item: str, document: str, *, once: str | None, once_ttl: float
    ) -> bool:
        if once is not None and not self._set_if_absent(
            self._keys.claim(once), "1", checked_ttl(once_ttl)
        ):
            return False
        self._wrote()
        self._work.setdefault(kind, {})[item] = document
        return True

    async def unfinished_work(self, kind: str) -> dict[str, str]:
        self._check_open()
        return dict(self._work.get(kind, {}))

    async def finish_work(self, kind: str, item: str, document: str) -> bool:
        self._check_open()
        registered = self._work.get(kind, {})
        if registered.get(item) != document:
            return False
        del registered[item]
        return True
