"""Per-user limits on expensive commands, kept in the store so every replica counts together.

A limit of N runs per W seconds is N slots; a run takes a free slot with `claim_once` (atomic in
Redis) and the slot frees itself W seconds later, so the limit holds over any W-second span:

    limiter = RateLimiter(store, {"triage": Limit(runs=3, per_seconds=60)})
    verdict = await limiter.take("triage", user_id)
    if not verdict.allowed:
        print(f"retry in {verdict.retry_after:.0f} s")
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.store.base import Store


@dataclass(frozen=True)
class Limit:
    runs: int
    per_seconds: float


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


DEFAULT_LIMITS: Mapping[str, Limit] = {"triage": Limit(runs=3, per_seconds=60.0)}


class RateLimiter:
    def __init__(
        self,
        store: Store,
        limits: Mapping[str, Limit] = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._limits = dict(limits)
        self._clock = clock

    def limit_of(self, command: str) -> Limit | None:
        return self._limits.get(command)

    async def take(self, command: str, user_id: str) -> Verdict:
        """Use one run of `command` for `user_id` if a slot is free; commands without a
        limit are always allowed."""
        limit = self._limits.get(command)
        if limit is None:
            return Verdict(True)
        for slot in range(limit.runs):
            key = _slot_key(command, user_id, slot)
            if await self._store.claim_once(key, limit.per_seconds):
                await self._store.set_value(f"{key}:at", repr(self._clock()), limit.per_seconds)
                return Verdict(True)
        return Verdict(False, await self._first_free_in(command, user_id, limit))

    async def _first_free_in(self, command: str, user_id: str, limit: Limit) -> float:
        now = self._clock()
        taken_at = []
        for slot in range(limit.runs):
            stored = await self._store.get_value(f"{_slot_key(command, user_id, slot)}:at")
            taken_at.append(float(stored) if stored else now)
        return max(0.0, min(taken_at) + limit.per_seconds - now)


def _slot_key(command: str, user_id: str, slot: int) -> str:
    return f"ratelimit:{command}:{user_id}:{slot}"
