"""Incidents on Redis: a string per document, a list per timeline, a hash of firing alerts."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from bot.store import redis_scripts
from bot.store.base import FiringChange
from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS
from bot.store.redis_base import RedisBase, milliseconds, text


class RedisIncidents(RedisBase):
    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        keys = self._keys
        with self._guard("put_incident"):
            if open:
                await self._script(redis_scripts.OPEN_INCIDENT)(
                    keys=self._incident_keys(incident_id, group_key), args=[incident_id, document]
                )
                return
            retention_ms = milliseconds(RESOLVED_INCIDENT_TTL_SECONDS)
            await self._script(redis_scripts.RESOLVE_INCIDENT)(
                keys=[
                    keys.incident(incident_id),
                    keys.incident_group(group_key),
                    keys.open_incidents(),
                    keys.timeline(incident_id),
                    keys.firing(incident_id),
                    keys.received(incident_id),
                ],
                args=[incident_id, document, retention_ms],
            )

    async def get_incident(self, incident_id: str) -> str | None:
        with self._guard("get_incident"):
            return text(await self._redis.get(self._keys.incident(incident_id)))

    async def incident_for_group(self, group_key: str) -> str | None:
        with self._guard("incident_for_group"):
            return text(await self._redis.get(self._keys.incident_group(group_key)))

    async def open_incident_ids(self) -> list[str]:
        with self._guard("open_incident_ids"):
            ids = await self._redis.zrange(self._keys.open_incidents(), 0, -1, desc=True)
        return [str(text(incident_id)) for incident_id in ids]

    async def create_incident_if_absent(
        self, group_key: str, incident_id: str, document: str
    ) -> str:
        with self._guard("create_incident_if_absent"):
            owner = str(
                text(
                    await self._script(redis_scripts.CREATE_INCIDENT_IF_ABSENT)(
                        keys=self._incident_keys(incident_id, group_key),
                        args=[incident_id, document],
                    )
                )
            )
            if owner == incident_id:
                await self._note_opened(incident_id)
        return owner

    async def _note_opened(self, incident_id: str) -> None:
        now = time.time()
        key = self._keys.incidents_opened()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {incident_id: now}, nx=True)
            pipe.zremrangebyscore(key, "-inf", now - RESOLVED_INCIDENT_TTL_SECONDS)
            await pipe.execute()

    async def incident_ids_opened_since(self, since: float) -> list[str]:
        with self._guard("incident_ids_opened_since"):
            ids = await self._redis.zrangebyscore(self._keys.incidents_opened(), since, "+inf")
        return [str(text(incident_id)) for incident_id in ids]

    async def append_timeline(self, incident_id: str, entry: str) -> None:
        keys = [self._keys.timeline(incident_id), self._keys.incident(incident_id)]
        with self._guard("append_timeline"):
            await self._script(redis_scripts.APPEND_TIMELINE)(keys=keys, args=[entry])

    async def timeline(self, incident_id: str) -> list[str]:
        with self._guard("timeline"):
            entries = await self._redis.lrange(self._keys.timeline(incident_id), 0, -1)
        return [str(text(entry)) for entry in entries]

    async def update_firing(
        self, incident_id: str, firing: Mapping[str, str], cleared: Sequence[str]
    ) -> FiringChange:
        args: list[str | int] = [len(firing)]
        for fingerprint, started in firing.items():
            args += [fingerprint, started]
        args += list(cleared)
        keys = [
            self._keys.firing(incident_id),
            self._keys.received(incident_id),
            self._keys.incident(incident_id),
        ]
        with self._guard("update_firing"):
            firing_now, received = await self._script(redis_scripts.UPDATE_FIRING)(
                keys=keys, args=args
            )
        return FiringChange(firing=int(firing_now), received=int(received))

    async def firing_fingerprints(self, incident_id: str) -> dict[str, str]:
        with self._guard("firing_fingerprints"):
            found = await self._redis.hgetall(self._keys.firing(incident_id))
        return {str(text(k)): str(text(v)) for k, v in found.items()}

    def _incident_keys(self, incident_id: str, group_key: str) -> list[str]:
        keys = self._keys
        return [
            keys.incident(incident_id),
            keys.incident_group(group_key),
            keys.open_incidents(),
            keys.incident_sequence(),
            keys.timeline(incident_id),
            keys.firing(incident_id),
            keys.received(incident_id),
        ]
