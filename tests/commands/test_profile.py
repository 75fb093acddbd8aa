"""`/triage SERVICE profile` and the Profile now button, against a real Prometheus (for the
worst instance) and a real Node.js process with the agent loaded through --require."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.server import RunningEmulator
from tests.commands.conftest import (
    GENERAL,
    INCIDENTS,
    OWNER,
    STRANGER,
    Commands,
    _running,
)
from tests.profiling.conftest import AgentProcess, agent_process
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.waiting import eventually

CATALOG = """
defaults: {channel: C0INCIDENTS, admins: [U0ADMIN1]}
services:
  checkout:
    selector: {job: checkout}
    owners: S0ONCALL
    agent: {url: "http://{host}:%d", token_env: CHECKOUT_AGENT_TOKEN, cpu_seconds: 1}
"""


@pytest.fixture
async def profiled(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Commands, AgentProcess]]:
    """Prometheus scrapes checkout at 127.0.0.1:X; the agent of a busy process listens on the
    same host, so the bot finds it from the instance label and the catalog's url template."""
    if not prometheus_available():
        pytest.skip("needs /usr/bin/prometheus")
    exposition = growing_counters(fixture_text("promclient.txt"))
    async with (
        agent_process("cpu", tmp_path) as agent,
        serve_exposition(exposition) as target,
        run_prometheus({"checkout": [target]}) as prometheus,
    ):
        monkeypatch.setenv("CHECKOUT_AGENT_TOKEN", agent.token)
        await prometheus.wait_for_series('up{job="checkout"} == 1')
        catalog = CATALOG % agent.port
        async with _running(emulator, tmp_path, catalog, PROMETHEUS_URL=prometheus.url) as running:
            yield running, agent


async def test_profile_command_posts_the_culprit_and_a_flame_graph(
    profiled: tuple[Commands, AgentProcess],
) -> None:
    live, agent = profiled
    line = agent.line_of("spinPricing starts here")
    reply = await live.driver.slash_command("/triage", "checkout profile", user_id=OWNER)
    assert "Taking a cpu profile of `checkout`" in reply.json()["text"]
    state = live.emulator.state
    await eventually(lambda: bool(state.channel_messages(GENERAL)), within=60)
    (note,) = state.channel_messages(GENERAL)
    assert "CPU profile of 127.0.0.1:" in note.text
    assert f"`spinPricing` at `{agent.script}:{line}`" in note.text
    await eventually(
        lambda: any(s.channel == GENERAL for f in state.files.values() for s in f.shares)
    )
    shares = [s for f in state.files.values() for s in f.shares if s.channel == GENERAL]
    assert [share.thread_ts for share in shares] == [note.ts], "the flame graph goes in its thread"


async def test_profile_now_button_posts_in_the_incident_thread(
    profiled: tuple[Commands, AgentProcess],
) -> None:
    live, _ = profiled
    incident_id = await live.open_incident_id()
    state = live.emulator.state
    await eventually(lambda: bool(state.channel_messages(INCIDENTS)))
    root = state.channel_messages(INCIDENTS)[0]
    assert "incident_profile_now" in json.dumps(root.blocks)
    await live.driver.click_button(
        "incident_profile_now", incident_id, message_ts=root.ts, user_id=OWNER
    )

    def profile_notes() -> list[str]:
        return [
            m.text for m in state.thread_replies(INCIDENTS, root.ts) if "CPU profile of" in m.text
        ]

    await eventually(lambda: bool(profile_notes()), within=60)
    assert "`spinPricing`" in profile_notes()[0]


async def test_a_bad_profile_kind_is_named(profiled: tuple[Commands, AgentProcess]) -> None:
    live, _ = profiled
    reply = await live.driver.slash_command("/triage", "checkout profile <!here>", user_id=STRANGER)
    text = reply.json()["text"]
    assert "is not a profile kind: use `cpu` or `heap`" in text
    assert "<!here>" not in text
