"""The bot's state: idempotency keys, incidents, the Slack outbox, locks and small values.

Use `open_store` to get a `Store`; only this package knows how state is laid out in Redis.
The Redis client is imported only when a Redis store is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from bot.store.base import Store, StoreUnavailable
from bot.store.keys import DEFAULT_PREFIX, KeySpace
from bot.store.memory import MemoryStore
from bot.store.target import RedisTarget, SentinelTarget

if TYPE_CHECKING:
    from bot.store.redis_store import RedisStore

__all__ = ["MemoryStore", "RedisStore", "Store", "StoreUnavailable", "open_store"]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from bot.store.redis_store import RedisStore

        return RedisStore
    raise AttributeError(name)


async def open_store(target: RedisTarget | None, *, prefix: str = DEFAULT_PREFIX) -> Store:
    """Open the Redis store at `target` (a URL or a Sentinel target), or an in-memory one when
    it is None.

    The Redis connection is checked before returning, so a wrong URL or an unreachable server
    raises StoreUnavailable at start-up rather than on the first alert.
    """
    log = structlog.get_logger()
    if target is None:
        log.warning(
            "Using the in-memory state store: it serves a single process only and loses "
            "incidents, outbox entries and locks on restart. Set REDIS_URL to share state.",
            backend="memory",
        )
        return MemoryStore()
    from bot.store.connection import connect
    from bot.store.redis_store import RedisStore

    # Behind Sentinel the primary has replicas: durable writes wait for one to confirm.
    replicas = 1 if isinstance(target, SentinelTarget) else 0
    store = RedisStore(connect(target), KeySpace(prefix), replicas=replicas)
    try:
        await store.ping()
    except StoreUnavailable:
        await store.close()
        raise
    log.info(
        "Connected to the Redis state store",
        backend=store.name,
        prefix=prefix,
        sentinel=isinstance(target, SentinelTarget),
    )
    return store
