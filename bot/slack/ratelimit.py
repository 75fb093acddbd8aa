"""Per-user limits on expensive commands, kept in the store so every replica counts together.

A limit of N runs per W seconds is a sliding window the store checks and updates in one atomic
step, so two replicas taking the last slot at the same moment cannot both get it:

    limiter = RateLimiter(store, {"triage": Limit(runs=3, per_seconds=60)})
    verdict = await limiter.take("triage", user_id)
    if not verdict.allowed:
        print(f"retry in {verdict.retry_after:.0f} s")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.store import keys
from bot.store.base import ValueStore


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
    def __init__(self, store: ValueStore, limits: Mapping[str, Limit] = DEFAULT_LIMITS) -> None:
        self._store = store
        self._limits = dict(limits)

    def limit_of(self, command: str) -> Limit | None:
        return self._limits.get(command)

    async def take(self, command: str, user_id: str) -> Verdict:
        """Use one run of `command` for `user_id` if one is left; commands without a limit are
        always allowed."""
        limit = self._limits.get(command)
        if limit is None:
            return Verdict(True)
        wait = await self._store.take_rate_slot(
            keys.rate_limit(command, user_id), limit.runs, limit.per_seconds
        )
        return Verdict(True) if wait == 0 else Verdict(False, wait)
