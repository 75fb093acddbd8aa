"""The whole path on real parts: a Node.js fault → Prometheus alert → Alertmanager → the bot's
webhook → an incident thread in the Slack emulator whose diagnosis names the fault, followed by
a CPU profile through the service's agent that names the function burning the time."""

from __future__ import annotations

import asyncio
import time

import pytest

from emulator.transcript import channel_transcript
from lab.demo import CHANNEL, demo_stack

pytestmark = pytest.mark.lab

FAULT = "event_loop_blocked"
DEADLINE_SECONDS = 150


@pytest.mark.timeout(300)
async def test_fault_to_alert_to_incident_thread_naming_the_fault() -> None:
    async with demo_stack(FAULT, "promclient") as demo:
        deadline = time.monotonic() + DEADLINE_SECONDS
        text = ""
        while time.monotonic() < deadline:
            text = channel_transcript(demo.slack.state, CHANNEL)
            if "Most likely cause" in text and "CPU profile of" in text:
                break
            await asyncio.sleep(1)
        messages = demo.slack.state.channel_messages(CHANNEL)
        roots = [m for m in messages if "EventLoopLagHigh" in m.text]
    assert "Most likely cause: event loop blocked" in text, text
    assert len(roots) == 1, "one alert, one thread"
    assert any(f.completed for f in demo.slack.state.files.values()), "a chart was uploaded"
    assert "`burnCpu` at `" in text, text
    assert text.index("Most likely cause") < text.index("CPU profile of"), "diagnosis first"
