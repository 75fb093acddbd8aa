"""Three replicas on one Redis through an alert storm, while a replica is killed, Redis restarts
or Sentinel fails the primary over. After each: one root per incident, nothing posted twice,
every resolved incident's root says so, few 429s, and no dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.store import open_store
from bot.store.base import StoreUnavailable
from bot.store.keys import TRIAGE_WORK
from bot.store.target import RedisTarget
from emulator.server import RunningEmulator, start_emulator
from tests.conftest import BOT_TOKEN
from tests.ha.cluster import (
    Cluster,
    Replica,
    all_resolved,
    catalog,
    judge,
    prepare_emulator,
    start_cluster_env,
    storm_waves,
)
from tests.redis_servers import RedisServer, SentinelSet, available
from tests.waiting import eventually

pytestmark = pytest.mark.skipif(
    not (available("redis-server") and available("redis-sentinel")),
    reason="needs redis-server and redis-sentinel (Debian: apt-get install redis-sentinel)",
)

INCIDENTS = 8
Disruption = Callable[[Cluster], Awaitable[None]]


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with await start_emulator(bot_token=BOT_TOKEN) as running:
        prepare_emulator(running)
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        yield client


async def run_cluster(
    emulator: RunningEmulator,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    redis_url: str,
) -> Cluster:
    config = catalog(tmp_path / "config")
    replicas = [
        Replica(name, port, env, tmp_path / f"{name}.log")
        for name, port, env in start_cluster_env(emulator, redis_url, config)
    ]
    cluster = Cluster(replicas, emulator, session)
    await cluster.start()
    return cluster


async def storm(cluster: Cluster, disrupt: Disruption) -> None:
    """Send the waves; disrupt right after the first, while the lanes are busy posting."""
    for number, wave in enumerate(storm_waves(INCIDENTS)):
        await asyncio.gather(*(cluster.notify(payload, pair) for pair, payload in wave))
        if number == 0:
            await disrupt(cluster)

    async def resolved() -> bool:
        return all_resolved(cluster.emulator, INCIDENTS)

    await eventually(resolved, 120, every=0.2, what="every incident resolved in Slack")


async def settled(cluster: Cluster, target: RedisTarget) -> None:
    """The shared outbox is empty, no triage is left, and nothing was dead-lettered."""
    store = await open_store(target)

    async def empty() -> bool:
        try:
            stats = await store.outbox_stats()
            return stats.pending == 0 and not await store.unfinished_work(TRIAGE_WORK)
        except StoreUnavailable:
            return False

    try:
        await eventually(empty, 60, every=0.2, what="the outbox and triages drained")
        assert await store.dead_letters(10) == []
    finally:
        await store.close()


def assert_delivered_once(emulator: RunningEmulator) -> None:
    verdict = judge(emulator, INCIDENTS)
    assert set(verdict.roots_per_incident.values()) == {1}, verdict.explain()
    assert verdict.repeated_ops == {}, verdict.explain()
    assert verdict.repeated_notes == [], verdict.explain()
    assert verdict.unresolved == [], verdict.explain()
    assert verdict.rate_limited < 0.1 * verdict.post_attempts, verdict.explain()
    assert emulator.state.lost_replies.lost, "some answers were lost on the way"


async def test_a_replica_killed_mid_storm_and_restarted(
    emulator: RunningEmulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    await redis.wait_ready()
    cluster = await run_cluster(emulator, session, tmp_path, redis.url)
    try:

        async def kill_and_restart(running: Cluster) -> None:
            victim = running.replicas[1]
            victim.kill()
            await asyncio.sleep(2)
            await victim.start()

        await storm(cluster, kill_and_restart)
        await settled(cluster, redis.url)
        assert_delivered_once(emulator)
        assert cluster.statuses[0] > 0, "the dead replica refused connections meanwhile"
    finally:
        await cluster.stop()
        redis.stop()


async def test_redis_restarted_mid_storm(
    emulator: RunningEmulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    await redis.wait_ready()
    cluster = await run_cluster(emulator, session, tmp_path, redis.url)
    try:

        async def restart_redis(running: Cluster) -> None:
            redis.kill()
            await asyncio.sleep(2)
            redis.start()
            await redis.wait_ready()

        await storm(cluster, restart_redis)
        await settled(cluster, redis.url)
        assert_delivered_once(emulator)
        assert cluster.statuses[503] > 0, "the replicas answered 503 while Redis was away"
        assert set(cluster.statuses) <= {0, 202, 503}, cluster.statuses
    finally:
        await cluster.stop()
        redis.stop()


async def test_sentinel_fails_the_primary_over_mid_storm(
    emulator: RunningEmulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    sentinels = SentinelSet(tmp_path / "redis")
    await sentinels.start()
    cluster = await run_cluster(emulator, session, tmp_path, sentinels.url)
    try:
        old_primary = await sentinels.primary_port()

        async def fail_over(_running: Cluster) -> None:
            await sentinels.fail_over()

        await storm(cluster, fail_over)
        assert await sentinels.primary_port() != old_primary
        await settled(cluster, sentinels.target)
        assert_delivered_once(emulator)
        assert set(cluster.statuses) <= {202, 503}, cluster.statuses
        assert await cluster.all_ready(), "every replica resumed without a restart"
    finally:
        await cluster.stop()
        sentinels.stop()
