"""`/triage SERVICE db`: the database step alone, posted in the channel, through the real
endpoint, a real Prometheus and the Slack emulator; the DSN never reaches Slack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.server import RunningEmulator
from lab.procs import free_port
from tests.commands.conftest import GENERAL, STRANGER, Commands, _running
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.waiting import eventually

PASSWORD = "zq-dsn-password-71"
CATALOG = """
defaults: {channel: C0INCIDENTS}
services:
  checkout:
    selector: {job: checkout}
    slo: {pool_size: 10}
    database: {dsn_env: CHECKOUT_DATABASE_URL, application_name: checkout}
  payments:
    selector: {job: checkout}
"""


@pytest.fixture
async def with_database(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Commands]:
    if not prometheus_available():
        pytest.skip("needs /usr/bin/prometheus")
    monkeypatch.chdir(tmp_path)
    closed = free_port()  # nothing listens there: the database is unreachable
    dsn = f"postgresql://triage_bot:{PASSWORD}@127.0.0.1:{closed}/shop"
    monkeypatch.setenv("CHECKOUT_DATABASE_URL", dsn)
    exposition = growing_counters(fixture_text("promclient.txt"))
    async with (
        serve_exposition(exposition) as target,
        run_prometheus({"checkout": [target]}) as prometheus,
    ):
        await prometheus.wait_for_series('up{job="checkout"} == 1')
        async with _running(emulator, tmp_path, CATALOG, PROMETHEUS_URL=prometheus.url) as bot:
            yield bot


async def posted(commands: Commands, text: str) -> str:
    reply = await commands.driver.slash_command("/triage", text, user_id=STRANGER)
    assert "Database evidence of `" in reply.json()["text"]
    state = commands.emulator.state
    await eventually(lambda: bool(state.channel_messages(GENERAL)), within=60)
    (message,) = state.channel_messages(GENERAL)
    return message.text + json.dumps(message.blocks)


async def test_an_unreachable_database_is_one_line_naming_the_variable(
    with_database: Commands,
) -> None:
    text = await posted(with_database, "checkout db 2m")
    assert "Database evidence for `checkout` over the last 2m" in text
    assert "cannot connect to the database in CHECKOUT_DATABASE_URL" in text
    assert "From the database step alone" in text
    assert "Event loop" not in text, "only the database step runs"
    assert PASSWORD not in text
    assert "127.0.0.1:" not in text


async def test_a_service_without_a_database_is_told_what_a_connection_adds(
    with_database: Commands,
) -> None:
    text = await posted(with_database, "payments db")
    assert "No database connection is configured for this service" in text
    assert "missing indexes" in text
