"""Replicas that share one real Redis under a key prefix of the test's own, removed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from bot.digest.period import DigestPeriod
from bot.outbox.ops import AnyOp, ChannelFile, ChannelMessage, ChannelOp, decode
from bot.store import RedisStore, Store
from bot.store.keys import KeySpace
from bot.store.redis_store import connect
from tests.conftest import redis_url, unique_prefix


@dataclass
class SharedRedis:
    """Stores that share one key space, as separate bot replicas would."""

    keys: KeySpace
    opened: list[RedisStore] = field(default_factory=list)

    def replica(self) -> RedisStore:
        store = RedisStore(connect(redis_url()), self.keys)
        self.opened.append(store)
        return store

    async def outbox(self) -> list[ChannelOp]:
        """Every queued item, oldest first (read under a lease short enough to reread)."""
        reader = self.replica()
        await asyncio.sleep(0.01)  # let an earlier read's lease lapse
        items = await reader.outbox_claim("test-reader", 0.001, 10_000)
        ops = [decode(item) for _, item in items]
        return [op for op in ops if isinstance(op, ChannelMessage | ChannelFile)]


@pytest.fixture
async def shared_redis() -> AsyncIterator[SharedRedis]:
    shared = SharedRedis(KeySpace(unique_prefix()))
    probe = shared.replica()
    try:
        await probe.ping()
    except Exception:
        pytest.skip("no Redis reachable at REDIS_URL")
    try:
        yield shared
    finally:
        cleanup = connect(redis_url())
        async for key in cleanup.scan_iter(match=shared.keys.pattern(), count=500):
            await cleanup.delete(key)
        await cleanup.aclose()
        for store in shared.opened:
            await store.close()


class FakeComposer:
    """Stands in for the Prometheus-backed composer: a top message and one reply per service."""

    def __init__(self, services: Sequence[str] = ("checkout", "ledger"), delay: float = 0.05):
        self.services = services
        self.delay = delay
        self.calls: list[DigestPeriod] = []

    async def __call__(self, period: DigestPeriod) -> list[AnyOp]:
        self.calls.append(period)
        await asyncio.sleep(self.delay)  # long enough for concurrent replicas to overlap
        top = ChannelMessage(channel=period.channel, key=period.key, text=f"digest {period.week}")
        replies = [
            ChannelMessage(
                channel=period.channel,
                key=period.service_key(name),
                text=name,
                thread_of=period.key,
            )
            for name in self.services
        ]
        return [top, *replies]


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def top_messages(ops: Sequence[AnyOp]) -> list[ChannelMessage]:
    return [op for op in ops if isinstance(op, ChannelMessage) and op.thread_of is None]


StoreFactory = Callable[[], Store]
