"""The bot's state: idempotency keys, incidents, the Slack outbox, locks and small values.

Use `open_store` to get a `Store`; only this package knows how state is laid out in Redis.
"""

from __future__ import annotations

import structlog

from bot.store.base import Store, StoreUnavailable
from bot.store.keys import DEFAULT_PREFIX, KeySpace
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore, connect

__all__ = ["MemoryStore", "RedisStore", "Store", "StoreUnavailable", "open_store"]


async def open_store(redis_url: str | None, *, prefix: str = DEFAULT_PREFIX) -> Store:
    """Open the Redis store at `redis_url`, or an in-memory one when it is None.

    The Redis connection is checked before returning, so a wrong URL or an unreachable server
    raises StoreUnavailable at start-up rather than on the first alert.
    """
    log = structlog.get_logger()
    if redis_url is None:
        log.warning(
            "Using the in-memory state store: it serves a single process only and loses "
            "incidents, outbox entries and locks on restart. Set REDIS_URL to share state.",
            backend="memory",
        )
        return MemoryStore()
    store = RedisStore(connect(redis_url), KeySpace(prefix))
    try:
        await store.ping()
    except StoreUnavailable:
        await store.close()
        raise
    log.info("Connected to the Redis state store", backend=store.name, prefix=prefix)
    return store
