"""Slack's rate limits as paces shared by every replica through the store.

Posts to a channel (messages and file shares) follow the channel's pace, about one a second with
a short burst; `chat.update` follows its workspace-wide tier (50 a minute). A 429 holds the pace
it hit for its `Retry-After`, for every replica.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.store import keys
from bot.store.base import ValueStore


@dataclass(frozen=True)
class Pace:
    name: str
    interval: float
    burst: int


@dataclass(frozen=True)
class PaceRules:
    """Slack allows about one post a second per channel and lets a burst of 3 through;
    reserving a burst of 2 leaves a token spare for network jitter. `chat.update` is Tier 3:
    50 calls a minute per workspace."""

    post_interval: float = 1.0
    post_burst: int = 2
    edit_interval: float = 60 / 50
    edit_burst: int = 20

    def posts(self, channel: str) -> Pace:
        return Pace(keys.post_pace(channel), self.post_interval, self.post_burst)

    def edits(self) -> Pace:
        return Pace(keys.method_pace("chat.update"), self.edit_interval, self.edit_burst)


class Pacer:
    def __init__(self, values: ValueStore, rules: PaceRules | None = None) -> None:
        self._values = values
        self.rules = rules or PaceRules()

    async def turn(self, pace: Pace) -> None:
        """Wait for this process's turn at `pace`."""
        wait = await self._values.reserve_pace(pace.name, pace.interval, pace.burst)
        if wait > 0:
            await asyncio.sleep(wait)

    async def hold(self, pace: Pace, seconds: float) -> None:
        await self._values.hold_pace(pace.name, max(seconds, 0.001))
