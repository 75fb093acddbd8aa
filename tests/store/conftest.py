"""Fixtures that run one contract suite over both store backends.

The Redis backend uses the real server at REDIS_URL under a prefix unique to each test and
deletes only the keys under that prefix afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from bot.store.base import Store
from bot.store.keys import KeySpace
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore, connect

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Redis expires keys within about a millisecond; this margin absorbs a busy test machine.
REAL_TIME_MARGIN_SECONDS = 0.05
UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    """A store under test, plus a way to let time pass that suits its clock."""

    store: Store
    elapse: Callable[[float], Awaitable[None]]
    reopen: Callable[[], Awaitable[Store]] | None = None


def redis_url() -> str:
    return os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)


def redis_address(url: str) -> str:
    """host:port of a Redis URL, never its credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


def closed_port() -> int:
    """A localhost port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def delete_keys(client: Redis, keys: KeySpace) -> None:
    async for key in client.scan_iter(match=keys.pattern(), count=500):
        await client.delete(key)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    """A raw client to the test server; skips the test when the server cannot be reached."""
    client = connect(redis_url())
    try:
        await client.ping()
    except UNREACHABLE as error:
        await client.aclose()
        pytest.skip(
            f"Redis not reachable at {redis_address(redis_url())} ({type(error).__name__}); "
            "start one or point REDIS_URL at a running server"
        )
    yield client
    await client.aclose()


@pytest.fixture
async def key_space(redis_client: Redis) -> AsyncIterator[KeySpace]:
    keys = KeySpace(f"test:{uuid.uuid4().hex}:")
    yield keys
    await delete_keys(redis_client, keys)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def memory_backend(clock: FakeClock) -> AsyncIterator[Backend]:
    async def elapse(seconds: float) -> None:
        clock.advance(seconds)

    store = MemoryStore(clock=clock)
    yield Backend(store, elapse)
    await store.close()


@pytest.fixture
async def redis_backend(key_space: KeySpace) -> AsyncIterator[Backend]:
    opened: list[RedisStore] = [RedisStore(connect(redis_url()), key_space)]

    async def elapse(seconds: float) -> None:
        await asyncio.sleep(seconds + REAL_TIME_MARGIN_SECONDS)

    async def reopen() -> Store:
        await opened[-1].close()
        opened.append(RedisStore(connect(redis_url()), key_space))
        return opened[-1]

    yield Backend(opened[0], elapse, reopen)
    for store in opened:
        await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen: Backend = request.getfixturevalue(f"{request.param}_backend")
    return chosen


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store
