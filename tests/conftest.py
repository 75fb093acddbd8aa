"""Fixtures shared across test packages: the Slack emulator and a running bot."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from bot.app import create_app
from bot.config import load_config
from bot.http.server import ServerLimits, start_site
from bot.settings import Settings
from bot.store import MemoryStore, Store
from bot.wiring import Wiring, build_wiring
from emulator.driver import SlackDriver
from emulator.limits import Limits
from emulator.server import RunningEmulator, start_emulator

BOT_TOKEN = "xoxb-test-0000-bottoken"
SIGNING_SECRET = "test-signing-secret-7f3a9c"
WEBHOOK_TOKEN = "test-webhook-token-51d2"


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with await start_emulator(bot_token=BOT_TOKEN) as running:
        yield running


@pytest.fixture
def quick_emulator(emulator: RunningEmulator) -> RunningEmulator:
    """The emulator without rate limits, for tests that pace faster than Slack to run quickly."""
    emulator.state.configure_limits(Limits(rate_limits_enabled=False))
    return emulator


def make_settings(emulator: RunningEmulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALERT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "SLACK_API_URL": emulator.url,
        "SLACK_RESPONSE_URL_ORIGINS": emulator.origin,
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_HTTP_PORT": 0,
        "LOG_FORMAT": "console",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass
class RunningBot:
    url: str
    wiring: Wiring
    app: web.Application

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"


async def start_bot(settings: Settings, store: Store) -> tuple[RunningBot, web.AppRunner]:
    wiring = build_wiring(settings, store, load_config(settings))
    app = create_app(wiring)
    runner, site = await start_site(app, "127.0.0.1", 0, ServerLimits.from_settings(settings))
    return RunningBot(url=f"http://127.0.0.1:{site.bound_port}", wiring=wiring, app=app), runner


@pytest.fixture
async def bot(emulator: RunningEmulator) -> AsyncIterator[RunningBot]:
    running, runner = await start_bot(make_settings(emulator), MemoryStore())
    try:
        yield running
    finally:
        await runner.cleanup()


@pytest.fixture
async def driver(bot: RunningBot, emulator: RunningEmulator) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(bot.events_url, SIGNING_SECRET, emulator.response_sink_base) as sent:
        yield sent


@pytest.fixture(params=["memory", "redis"])
async def any_store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each backend in turn; the Redis one under a key prefix of its own, cleaned up after."""
    if request.param == "memory":
        yield MemoryStore()
        return
    from bot.store import RedisStore
    from bot.store.keys import KeySpace
    from bot.store.redis_store import connect

    keys = KeySpace(unique_prefix())
    client = connect(redis_url())
    store = RedisStore(client, keys)
    try:
        await store.ping()
    except Exception:
        await store.close()
        pytest.skip("no Redis reachable at REDIS_URL")
    try:
        yield store
    finally:
        cleanup = connect(redis_url())
        async for key in cleanup.scan_iter(match=keys.pattern(), count=500):
            await cleanup.delete(key)
        await cleanup.aclose()
        await store.close()
