"""The capture policy: which diagnosis gets which profile, and the limits two replicas share
through one Redis (one capture per service at a time, a few per ten minutes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.catalog import Service, parse_catalog
from bot.profiling import capture as capture_module
from bot.profiling.capture import InstanceFinder, ProfileCapture, profile_for
from bot.sources.signals import Signal
from bot.store.keys import KeySpace
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore, connect
from tests.conftest import redis_url
from tests.profiling.conftest import AgentProcess, wait_until_capturing
from tests.store.conftest import delete_keys


def service_with_agent(port: int, **agent: object) -> Service:
    entry = {
        "selector": {"job": "checkout"},
        "agent": {"port": port, "token_env": "CHECKOUT_AGENT_TOKEN", **agent},
    }
    catalog = parse_catalog(json.dumps({"services": {"checkout": entry}}))
    service = catalog.get("checkout")
    assert service is not None
    return service


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisStore]:
    keys = KeySpace(f"test:{uuid.uuid4().hex}:")
    store = RedisStore(connect(redis_url()), keys)
    yield store
    client = connect(redis_url())
    await delete_keys(client, keys)
    await client.aclose()
    await store.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def replica(store: object, session: aiohttp.ClientSession, token: str) -> ProfileCapture:
    return ProfileCapture(store, lambda: session, {"CHECKOUT_AGENT_TOKEN": SecretStr(token)})  # type: ignore[arg-type]


def at(host_port: str) -> InstanceFinder:
    async def find(signal: Signal) -> str:
        return host_port

    return find


def test_the_diagnosis_decides_the_profile() -> None:
    assert profile_for("event_loop_blocked") == ("cpu", Signal.EVENTLOOP_LAG_P99)
    assert profile_for("cpu_saturated") == ("cpu", Signal.CPU_CORES)
    assert profile_for("gc_pressure") == ("cpu", Signal.GC_TIME_RATIO)
    assert profile_for("heap_leak") == ("heap", Signal.HEAP_USED)
    assert profile_for("slow_downstream") is None


async def test_two_replicas_never_capture_one_service_at_once(
    idle_agent: AgentProcess, redis_store: RedisStore, session: aiohttp.ClientSession
) -> None:
    service = service_with_agent(idle_agent.port, cpu_seconds=1)
    first, second = (
        replica(redis_store, session, idle_agent.token),
        replica(redis_store, session, idle_agent.token),
    )
    running = asyncio.ensure_future(
        first.capture(service, "cpu", Signal.CPU_CORES, at(f"127.0.0.1:{idle_agent.port}"))
    )
    await wait_until_capturing(session, idle_agent)  # the lock is taken before the capture
    refused = await second.capture(
        service, "cpu", Signal.CPU_CORES, at(f"127.0.0.1:{idle_agent.port}")
    )
    assert refused.reason == "another profile of checkout is being taken"
    assert (await running).captured


async def test_captures_of_a_service_are_rate_limited_across_replicas(
    idle_agent: AgentProcess,
    redis_store: RedisStore,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(capture_module, "RATE_RUNS", 2)
    service = service_with_agent(idle_agent.port, cpu_seconds=0.2)
    replicas = [replica(redis_store, session, idle_agent.token) for _ in range(2)]
    where = at(f"127.0.0.1:{idle_agent.port}")
    outcomes = [
        await replicas[n % 2].capture(service, "cpu", Signal.CPU_CORES, where) for n in range(3)
    ]
    assert [o.captured for o in outcomes] == [True, True, False]
    assert (
        "profiled 2 times in the last 10 minutes; the next profile is allowed in"
        in outcomes[2].reason
    )


async def test_missing_configuration_is_explained(session: aiohttp.ClientSession) -> None:
    plain = parse_catalog(json.dumps({"services": {"web": {"selector": {"job": "web"}}}})).get(
        "web"
    )
    assert plain is not None
    capture = ProfileCapture(MemoryStore(), lambda: session, {})
    no_agent = await capture.capture(plain, "cpu", Signal.CPU_CORES, at("127.0.0.1:1"))
    assert not no_agent.captured
    assert "web has no agent in the service catalog" in no_agent.reason
    no_token = await capture.capture(
        service_with_agent(9230), "heap", Signal.HEAP_USED, at("127.0.0.1:1")
    )
    assert no_token.reason.startswith("CHECKOUT_AGENT_TOKEN is not set")


async def test_a_strange_instance_label_is_not_used_as_a_host(
    session: aiohttp.ClientSession,
) -> None:
    capture = replica(MemoryStore(), session, "x" * 20)
    evidence = await capture.capture(
        service_with_agent(9230), "cpu", Signal.CPU_CORES, at("evil.example/@x:80")
    )
    assert not evidence.captured
    assert "holds no host name or address" in evidence.reason
