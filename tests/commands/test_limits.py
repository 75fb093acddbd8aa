"""Permission refusals from the catalog's rules, the per-user `/triage` limit (store-backed, so
replicas count together), background failures reported to the caller, and acks that never
wait for Prometheus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.slack.ratelimit import Limit, RateLimiter
from bot.store import Store
from emulator.server import RunningEmulator
from tests.commands.conftest import (
    ADMIN,
    CATALOG,
    GENERAL,
    OWNER,
    STRANGER,
    Commands,
    _running,
    text_of,
)
from tests.promstack import serve_app


async def test_a_command_reserved_to_admins_says_who_may(commands: Commands) -> None:
    reply = await commands.driver.slash_command("/slo", "checkout", user_id=OWNER)
    assert "Checking `checkout`" in reply.json()["text"]
    refusal = text_of(await commands.next_response(OWNER))
    assert "Only the admins" in refusal
    assert ADMIN in refusal


async def test_triage_without_prometheus_reports_why_to_the_caller(commands: Commands) -> None:
    reply = await commands.driver.slash_command("/triage", "checkout 5m", user_id=STRANGER)
    assert "running" in reply.json()["text"]
    answer = await commands.next_response(STRANGER)
    assert answer.body["response_type"] == "ephemeral"
    assert "PROMETHEUS_URL" in text_of(answer)
    assert not commands.emulator.state.channel_messages(GENERAL)


async def test_the_fourth_triage_in_a_minute_is_refused_with_when_to_retry(
    commands: Commands,
) -> None:
    for _ in range(4):
        reply = await commands.driver.slash_command("/triage", "payments", user_id=STRANGER)
        assert reply.status == 200
    for seen in range(4):
        await commands.next_response(STRANGER, after=seen)
    texts = [text_of(post) for post in commands.responses_for(STRANGER)]
    refusals = [t for t in texts if "try again in" in t]
    assert len(refusals) == 1, texts
    seconds = int(refusals[0].split("try again in ")[1].split(" s")[0])
    assert 50 <= seconds <= 60
    other = await commands.driver.slash_command("/triage", "payments", user_id=OWNER)
    assert other.status == 200
    assert "try again" not in text_of(await commands.next_response(OWNER))


async def test_rate_limit_holds_across_replicas_and_frees_itself(any_store: Store) -> None:
    limits = {"triage": Limit(runs=2, per_seconds=1.0)}
    replica_a, replica_b = RateLimiter(any_store, limits), RateLimiter(any_store, limits)
    assert (await replica_a.take("triage", "U1")).allowed
    assert (await replica_b.take("triage", "U1")).allowed
    refused = await replica_a.take("triage", "U1")
    assert not refused.allowed
    assert 0 < refused.retry_after <= 1.0
    assert (await replica_b.take("triage", "U2")).allowed, "limits are per user"
    assert (await replica_a.take("health", "U1")).allowed, "commands without a limit run"
    await asyncio.sleep(refused.retry_after + 0.1)
    assert (await replica_b.take("triage", "U1")).allowed


@pytest.fixture
async def slow_prometheus() -> AsyncIterator[str]:
    async def stall(_request: web.Request) -> web.Response:
        await asyncio.sleep(1.5)
        return web.json_response({"status": "success", "data": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stall)
    async with serve_app(app) as address:
        yield f"http://{address}"


async def test_acks_do_not_wait_for_prometheus(
    emulator: RunningEmulator, tmp_path: Path, slow_prometheus: str
) -> None:
    async with _running(emulator, tmp_path, CATALOG, PROMETHEUS_URL=slow_prometheus) as bot:
        for command, text in (("/triage", "checkout"), ("/health", "checkout")):
            started = time.monotonic()
            reply = await bot.driver.slash_command(command, text, user_id=ADMIN)
            assert reply.status == 200
            assert time.monotonic() - started < 0.5, command
        await bot.next_response(ADMIN, within=30)
