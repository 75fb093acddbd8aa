"""Redis-only behaviour: unreachable servers, restarts, expiry of resolved incidents."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from bot import telemetry
from bot.store import open_store
from bot.store.base import StoreUnavailable
from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS, KeySpace
from bot.store.outbox_contract import Fence
from bot.store.redis_store import RedisStore, connect
from tests.store.conftest import Backend, closed_port, delete_keys, redis_url

PASSWORD = "hunter2-do-not-leak"


def store_errors(operation: str) -> float:
    value = telemetry.REGISTRY.get_sample_value("bot_store_errors_total", {"operation": operation})
    return value or 0.0


def unreachable_url() -> str:
    return f"redis://:{PASSWORD}@127.0.0.1:{closed_port()}/0"


def describe(error: BaseException) -> str:
    """The error and everything chained to it, as an operator would see it in a log."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        parts.append(repr(current))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


async def test_unreachable_server_raises_store_unavailable_and_counts_it() -> None:
    store = RedisStore(connect(unreachable_url()), KeySpace("test:unreachable:"))
    before = {op: store_errors(op) for op in ("ping", "claim_once", "fetch_lane")}
    try:
        with pytest.raises(StoreUnavailable) as raised:
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.claim_once("delivery-1", 60)
        with pytest.raises(StoreUnavailable):
            await store.fetch_lane("C0INCIDENTS", "token", "replica-a", limit=1)
    finally:
        await store.close()
    assert {op: store_errors(op) - before[op] for op in before} == {
        "ping": 1.0,
        "claim_once": 1.0,
        "fetch_lane": 1.0,
    }
    assert PASSWORD not in describe(raised.value)


async def test_open_store_fails_fast_when_redis_is_unreachable() -> None:
    before = store_errors("ping")
    with pytest.raises(StoreUnavailable) as raised:
        await open_store(unreachable_url(), prefix="test:unreachable:")
    assert store_errors("ping") == before + 1
    assert PASSWORD not in describe(raised.value)


@pytest.mark.redis
async def test_outbox_entries_survive_a_restart(redis_backend: Backend) -> None:
    store = redis_backend.store
    first = await store.enqueue("C0INCIDENTS", "a")
    await store.enqueue("C0INCIDENTS", "b")
    token = await store.claim_lane("C0INCIDENTS", 30)
    assert token is not None
    read = await store.fetch_lane("C0INCIDENTS", token, "replica-a", limit=1)
    assert [(e.entry_id, e.item) for e in read or []] == [(first, "a")]
    assert redis_backend.reopen is not None
    restarted = await redis_backend.reopen()
    assert (await restarted.outbox_stats()).pending == 2
    again = await restarted.fetch_lane("C0INCIDENTS", token, "replica-b", limit=5)
    assert [(e.item, e.taken_over) for e in again or []] == [("a", True)]


@pytest.mark.redis
async def test_resolved_incident_and_timeline_expire_after_retention(
    redis_backend: Backend, redis_client: Redis, key_space: KeySpace
) -> None:
    store = redis_backend.store
    await store.put_incident("inc-1", "g", "{}", open=True)
    await store.append_timeline("inc-1", "opened")
    assert await redis_client.pttl(key_space.incident("inc-1")) == -1
    assert await redis_client.pttl(key_space.timeline("inc-1")) == -1
    await store.update_firing("inc-1", {"fp": "t0"}, [])
    assert await redis_client.pttl(key_space.firing("inc-1")) == -1
    await store.put_incident("inc-1", "g", "{}", open=False)
    await store.append_timeline("inc-1", "resolved")
    retention_ms = RESOLVED_INCIDENT_TTL_SECONDS * 1000
    for key in (
        key_space.incident("inc-1"),
        key_space.timeline("inc-1"),
        key_space.firing("inc-1"),
        key_space.received("inc-1"),
    ):
        remaining = await redis_client.pttl(key)
        assert retention_ms - 60_000 < remaining <= retention_ms
    await store.put_incident("inc-1", "g", "{}", open=True)
    assert await redis_client.pttl(key_space.timeline("inc-1")) == -1
    assert await redis_client.pttl(key_space.firing("inc-1")) == -1
    assert await redis_client.pttl(key_space.received("inc-1")) == -1


@pytest.mark.redis
async def test_every_key_lives_under_the_prefix(
    redis_backend: Backend, redis_client: Redis, key_space: KeySpace
) -> None:
    store = redis_backend.store
    await store.claim_once("c", 60)
    await store.create_incident_if_absent("g", "inc-1", "{}")
    await store.append_timeline("inc-1", "opened")
    await store.update_firing("inc-1", {"fp": "t0"}, [])
    await store.enqueue("C0INCIDENTS", "a")
    await store.write_slot("C0INCIDENTS", "root:1", "content", "sync")
    token = await store.claim_lane("C0INCIDENTS", 60)
    assert token is not None
    await store.mark_attempt("op-1", "1.0 me", fence=Fence("C0INCIDENTS", token), expected=None)
    await store.acquire_lock("l", 60)
    await store.register_work("triage", "inc-1", "{}", once="o", once_ttl=60)
    await store.set_value("v", "1", None)
    await store.take_rate_slot("r", 1, 60)
    await store.touch_member("m", "U1", 60, 10)
    await store.reserve_pace("p", 1, 1)
    keys = [key async for key in redis_client.scan_iter(match=key_space.pattern())]
    assert len(keys) >= 18
    assert all(key.startswith(key_space.prefix) for key in keys)


@pytest.mark.redis
async def test_cleanup_deletes_only_keys_under_the_prefix(redis_client: Redis) -> None:
    unique = uuid.uuid4().hex
    mine, neighbour = KeySpace(f"test:{unique}:"), KeySpace(f"test:{unique}-neighbour:")
    try:
        await redis_client.set(mine.value("x"), "1", px=60_000)
        await redis_client.set(neighbour.value("x"), "1", px=60_000)
        await delete_keys(redis_client, mine)
        assert await redis_client.exists(mine.value("x")) == 0
        assert await redis_client.exists(neighbour.value("x")) == 1
    finally:
        await delete_keys(redis_client, neighbour)


async def test_connect_uses_bounded_timeouts() -> None:
    client = connect(redis_url())
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_connect_timeout"] == 2.0
        assert kwargs["socket_timeout"] == 2.0
        assert kwargs["health_check_interval"] > 0
    finally:
        await client.aclose()
