"""The Silence 1 h button creates a silence in a real Alertmanager and says so in the thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.store import MemoryStore
from emulator.server import RunningEmulator
from lab.monitoring import running_alertmanager
from lab.packages import missing_packages
from tests.conftest import make_settings, start_bot
from tests.flow.test_incident_flow import (
    CATALOG,
    CHANNEL,
    PLAYBOOKS,
    Stack,
    _incident_id,
)
from tests.waiting import eventually, holds

pytestmark = pytest.mark.skipif(
    "prometheus-alertmanager" in missing_packages(), reason="needs prometheus-alertmanager"
)


@pytest.fixture
async def alertmanager(tmp_path: Path) -> AsyncIterator[str]:
    async with running_alertmanager(tmp_path, None) as url:
        yield url


async def test_silence_button_creates_a_silence_with_the_incidents_matchers(
    emulator: RunningEmulator, alertmanager: str, tmp_path: Path
) -> None:
    from emulator.driver import SlackDriver
    from tests.conftest import SIGNING_SECRET

    (tmp_path / "services.yaml").write_text(CATALOG)
    settings = make_settings(
        emulator, ALERTMANAGER_URL=alertmanager, BOT_CONFIG_DIR=tmp_path, BOT_PLAYBOOK_DIR=PLAYBOOKS
    )
    bot, runner = await start_bot(settings, MemoryStore())
    try:
        async with SlackDriver(bot.events_url, SIGNING_SECRET, emulator.response_sink_base) as d:
            stack = Stack(bot, emulator, d)
            assert await stack.send_alert("firing") == 202
            await eventually(holds(lambda: stack.root().ts), 30)
            root = stack.root()
            reply = await d.click_button(
                "incident_silence_1h",
                _incident_id(root),
                message_ts=root.ts,
                user_id="U0ALICE",
                channel_id=CHANNEL,
            )
            assert reply.status == 200
            await eventually(holds(lambda: any("silenced" in m.text for m in stack.thread())), 30)
    finally:
        await runner.cleanup()
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{alertmanager}/api/v2/silences") as response,
    ):
        silences = await response.json()
    (silence,) = silences
    assert silence["createdBy"] == "slack:U0ALICE"
    assert silence["status"]["state"] == "active"
    matchers = {m["name"]: m["value"] for m in silence["matchers"]}
    assert matchers["alertname"] == "LatencyP99OverSLO"
    assert matchers["job"] == "checkout"
    note = next(m.text for m in stack.thread() if "silenced" in m.text)
    assert silence["id"] in note
