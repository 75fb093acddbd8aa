"""In-memory store for a single process: development, tests, and deployments without Redis.

The same contract as the Redis backend, one part per concern; state is lost when the process
exits.
"""

from __future__ import annotations

import time

from bot.store.memory_base import Clock
from bot.store.memory_incidents import MemoryIncidents
from bot.store.memory_outbox import MemoryOutbox
from bot.store.memory_values import MemoryLeases, MemoryValues


class MemoryStore(MemoryIncidents, MemoryOutbox, MemoryLeases, MemoryValues):
    """The Store contract kept in dictionaries."""

    def __init__(self, *, clock: Clock = time.monotonic, wall_clock: Clock = time.time) -> None:
        super().__init__(clock=clock, wall_clock=wall_clock)

    @property
    def name(self) -> str:
        return "memory"

    async def ping(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True
