"""The store behind Redis Sentinel: it finds the primary, follows it across a failover without
a restart, and a durable write is one the new primary has."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.base import Store, StoreUnavailable
from tests.redis_servers import SentinelSet, available

pytestmark = pytest.mark.skipif(
    not (available("redis-server") and available("redis-sentinel")),
    reason="needs redis-server and redis-sentinel (Debian: apt-get install redis-sentinel)",
)


@pytest.fixture
async def sentinels(tmp_path: Path) -> AsyncIterator[SentinelSet]:
    servers = SentinelSet(tmp_path)
    try:
        await servers.start()
        yield servers
    finally:
        servers.stop()


async def until_it_answers(store: Store, within: float = 20.0) -> float:
    """Seconds the store refused writes for, retrying as a webhook sender would."""
    started = time.monotonic()
    while True:
        try:
            await store.set_value("probe", "x", 60, durable=True)
            return time.monotonic() - started
        except StoreUnavailable:
            assert time.monotonic() - started < within, "the store never came back"
            await asyncio.sleep(0.1)


async def test_the_store_follows_the_primary_across_a_failover(
    sentinels: SentinelSet,
) -> None:
    store = await open_store(sentinels.target, prefix="test:sentinel:")
    try:
        assert await store.claim_once("before", 600)
        await store.set_value("kept", "yes", None, durable=True)
        await store.enqueue("C0INCIDENTS", "queued before")
        old = await sentinels.primary_port()
        new = await sentinels.fail_over()
        assert new != old
        await until_it_answers(store)
        assert await store.get_value("kept") == "yes"
        assert not await store.claim_once("before", 600), "the claim survived"
        assert [e.item for e in await store.peek_lane("C0INCIDENTS", 5)] == ["queued before"]
        await store.enqueue("C0INCIDENTS", "queued after")
        assert (await store.outbox_stats()).pending == 2
    finally:
        await store.close()


async def test_a_durable_write_waits_for_the_replica(sentinels: SentinelSet) -> None:
    store = await open_store(sentinels.target, prefix="test:sentinel:")
    try:
        await store.set_value("confirmed", "1", 60, durable=True)
        for replica in sentinels.replicas:
            replica.kill()
        with pytest.raises(StoreUnavailable, match="no replica confirmed"):
            await store.set_value("unconfirmed", "1", 60, durable=True)
        await store.set_value("plain", "1", 60)  # a plain write does not wait
    finally:
        await store.close()
