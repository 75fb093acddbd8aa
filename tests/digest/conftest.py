"""Replicas that share one real Redis under a key prefix of the test's own, removed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from bot.digest.period import DigestPeriod
from bot.outbox.ops import AnyOp, Post, Upload, decode
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

    async def outbox(self) -> list[Post | Upload]:
        """Every queued write, oldest first per channel."""
        reader = self.replica()
        ops = [
            decode(entry.item)
            for lane in await reader.lanes()
            for entry in await reader.peek_lane(lane, 10_000)
        ]
        return [op for op in ops if isinstance(op, Post | Upload)]


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

    async def __call__(self, period: DigestPeriod) -> list[Post | Upload]:
        self.calls.append(period)
        await asyncio.sleep(self.delay)  # long enough for concurrent replicas to overlap
        top = Post(channel=period.channel, op_id=period.key, text=f"digest {period.week}")
        replies = [
            Post(
                channel=period.channel,
                op_id=period.service_key(name),
                text=name,
                thread=period.key,
            )
            for name in self.services
        ]
        ops: list[Post | Upload] = [top, *replies]
        return ops


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def top_messages(ops: Sequence[AnyOp]) -> list[Post]:
    return [op for op in ops if isinstance(op, Post) and op.thread is None]


StoreFactory = Callable[[], Store]
