"""Fixtures running the APM contract suite once per backend in the registry."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.sources.apm import BACKENDS

# The fakes live in tests/fakes. Collecting only this directory leaves the repository root off
# sys.path until pytest sets up the `tests` package, which is after this file is imported.
_REPOSITORY_ROOT = str(Path(__file__).resolve().parents[3])
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)

from .harnesses import HARNESSES, Harness  # noqa: E402


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture(params=sorted(BACKENDS))
async def harness(
    request: pytest.FixtureRequest, session: aiohttp.ClientSession
) -> AsyncIterator[Harness]:
    name = request.param
    if name not in HARNESSES:
        pytest.fail(f"APM backend {name!r} is registered but has no harness in harnesses.py")
    started, stop = await HARNESSES[name](session)
    try:
        yield started
    finally:
        await stop()
