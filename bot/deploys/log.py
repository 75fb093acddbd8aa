"""Deploy events in the shared store: every replica sees what any replica received.

Each event is one member of a per-service set that keeps the latest `MOST_PER_SERVICE`
seen within `KEEP_SECONDS` (one atomic store operation), so repeats of the same event are
stored once and nothing grows without bound.
"""

from __future__ import annotations

import json
from typing import Protocol

from bot.models import Change
from bot.store import keys

KEEP_SECONDS = 7 * keys.DAY_SECONDS
MOST_PER_SERVICE = 200


class MemberStore(Protocol):
    async def touch_member(
        self, name: str, member: str, keep_seconds: float, most: int
    ) -> None: ...

    async def recent_members(self, name: str, keep_seconds: float) -> list[str]: ...


class DeployLog:
    def __init__(self, store: MemberStore) -> None:
        self._store = store

    async def record(self, service: str, change: Change) -> None:
        await self._store.touch_member(
            keys.deploys(service), change.model_dump_json(), KEEP_SECONDS, MOST_PER_SERVICE
        )

    async def between(self, service: str, start: float, end: float) -> tuple[Change, ...]:
        """Deploys of `service` whose time falls in [start, end], oldest first."""
        found = []
        for member in await self._store.recent_members(keys.deploys(service), KEEP_SECONDS):
            try:
                change = Change.model_validate(json.loads(member))
            except ValueError:
                continue  # written by another version of the bot; not worth failing a triage
            if start <= change.at <= end:
                found.append(change)
        return tuple(sorted(found, key=lambda change: change.at))
