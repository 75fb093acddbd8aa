"""Fixtures: a real emulator on a free 127.0.0.1 port, and slack_sdk's client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulator import Limits, RunningEmulator, start_emulator

TOKEN = "xoxb-emulator-test-token"

StartEmulator = Callable[..., Awaitable[RunningEmulator]]


@pytest.fixture
async def start() -> AsyncIterator[StartEmulator]:
    """Starts emulators with custom limits; every one is closed after the test."""
    started: list[RunningEmulator] = []

    async def _start(limits: Limits | None = None) -> RunningEmulator:
        emulator = await start_emulator(bot_token=TOKEN, limits=limits)
        started.append(emulator)
        return emulator

    yield _start
    for emulator in started:
        await emulator.close()


@pytest.fixture
async def emulator(start: StartEmulator) -> RunningEmulator:
    return await start()


@pytest.fixture
def client(emulator: RunningEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=emulator.url, timeout=10)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session
