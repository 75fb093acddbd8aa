"""Redis backend: shared state for any number of bot processes, one part per concern.

The outbox is built on Redis Streams (see `bot.store.outbox_contract`): a lane is read only by
the owner of its lease, so XAUTOCLAIM is used only to take over a previous owner's unfinished
entries, never to decide who owns them.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.store.connection import connect
from bot.store.keys import KeySpace
from bot.store.redis_incidents import RedisIncidents
from bot.store.redis_outbox import RedisOutbox
from bot.store.redis_values import RedisLeases, RedisValues

__all__ = ["RedisStore", "connect"]


class RedisStore(RedisIncidents, RedisOutbox, RedisLeases, RedisValues):
    """The Store contract on Redis. Every key lives under `keys.prefix`."""

    def __init__(self, client: Redis, keys: KeySpace, *, replicas: int = 0) -> None:
        """`replicas`: how many replicas must confirm durable writes (0: none are awaited)."""
        super().__init__(client, keys, replicas=replicas)

    @property
    def name(self) -> str:
        return "redis"

    async def ping(self) -> None:
        with self._guard("ping"):
            await self._redis.ping()

    async def close(self) -> None:
        self._closed = True
        await self._redis.aclose()
