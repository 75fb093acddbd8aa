"""open_store picks the backend, warns about the in-memory one, and never logs the URL."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from bot.store import MemoryStore, RedisStore, open_store
from bot.store.keys import KeySpace
from tests.store.conftest import redis_url


async def test_without_url_returns_the_memory_store_and_warns() -> None:
    with capture_logs() as logs:
        store = await open_store(None)
    try:
        assert isinstance(store, MemoryStore)
        assert store.name == "memory"
        warnings = [entry for entry in logs if entry["log_level"] == "warning"]
        assert len(warnings) == 1
        message = warnings[0]["event"]
        assert "single process" in message
        assert "restart" in message
    finally:
        await store.close()


@pytest.mark.redis
@pytest.mark.usefixtures("redis_client")
async def test_with_url_returns_a_connected_redis_store_without_logging_the_url(
    key_space: KeySpace,
) -> None:
    url = redis_url()
    with capture_logs() as logs:
        store = await open_store(url, prefix=key_space.prefix)
    try:
        assert isinstance(store, RedisStore)
        assert store.name == "redis"
        assert await store.claim_once("delivery-1", 60)
        assert logs
        assert all(url not in repr(entry) for entry in logs)
    finally:
        await store.close()
