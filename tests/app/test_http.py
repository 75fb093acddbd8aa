from __future__ import annotations

import logging
import time

import aiohttp
import pytest
import structlog

from bot.store import RedisStore
from bot.store.keys import KeySpace
from bot.store.redis_store import connect
from emulator.driver import Signing, SlackDriver
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN, RunningBot, make_settings, start_bot


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_healthz_answers_alive(bot: RunningBot) -> None:
    status, body = await get_json(f"{bot.url}/healthz")
    assert status == 200
    assert body == {"status": "alive"}


async def test_ready_when_store_answers_and_slack_auth_passed(bot: RunningBot) -> None:
    status, body = await get_json(f"{bot.url}/readyz")
    assert (status, body) == (200, {"status": "ready"})


async def test_not_ready_when_store_is_down(
    emulator: RunningEmulator, unused_tcp_port: int
) -> None:
    dead = RedisStore(connect(f"redis://127.0.0.1:{unused_tcp_port}/0"), KeySpace("test:dead:"))
    running, runner = await start_bot(make_settings(emulator), dead)
    try:
        status, body = await get_json(f"{running.url}/readyz")
    finally:
        await runner.cleanup()
    assert status == 503
    reasons = body["reasons"]
    assert isinstance(reasons, list)
    assert any("state store unreachable" in str(r) for r in reasons)


async def test_not_ready_when_slack_rejects_the_token(emulator: RunningEmulator) -> None:
    from bot.store import MemoryStore

    settings = make_settings(emulator, SLACK_BOT_TOKEN="xoxb-revoked-token-123")
    running, runner = await start_bot(settings, MemoryStore())
    try:
        status, body = await get_json(f"{running.url}/readyz")
    finally:
        await runner.cleanup()
    assert status == 503
    assert "invalid_auth" in str(body["reasons"])
    assert "xoxb-revoked-token-123" not in str(body)


async def test_metrics_expose_requests_slack_calls_and_loop_lag(bot: RunningBot) -> None:
    await get_json(f"{bot.url}/healthz")
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/metrics") as response:
        text = await response.text()
    assert response.status == 200
    assert 'bot_http_requests_total{route="/healthz",status="200"}' in text
    assert 'bot_slack_api_calls_total{method="auth.test",outcome="ok"}' in text
    assert "bot_event_loop_lag_seconds_bucket" in text
    assert "bot_store_errors_total" in text
    assert BOT_TOKEN not in text


@pytest.mark.parametrize(
    ("signing", "age_seconds", "expected"),
    [
        (Signing.VALID, 0, 200),
        (Signing.MISSING, 0, 401),
        (Signing.WRONG, 0, 401),
        (Signing.VALID, 6 * 60, 401),
    ],
    ids=["signed", "unsigned", "wrong-secret", "stale-timestamp"],
)
async def test_slack_requests_need_a_fresh_valid_signature(
    driver: SlackDriver,
    caplog: pytest.LogCaptureFixture,
    signing: Signing,
    age_seconds: int,
    expected: int,
) -> None:
    marker = "secret-body-marker-93d1"
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        reply = await driver.slash_command(
            "/triage", f"help {marker}", signing=signing, timestamp=int(time.time()) - age_seconds
        )
    assert reply.status == expected
    logged = repr(events) + caplog.text
    assert marker not in logged
    if expected == 401:
        assert any("signature" in str(e.get("event")) for e in events)
