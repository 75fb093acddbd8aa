"""The whole path on real components: an Alertmanager webhook into the running bot, a triage
against a real Prometheus, and the incident thread as the Slack emulator holds it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.store import MemoryStore
from emulator.driver import SlackDriver
from emulator.records import Message
from emulator.server import RunningEmulator
from tests.conftest import SIGNING_SECRET, WEBHOOK_TOKEN, RunningBot, make_settings, start_bot
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.waiting import eventually, holds

pytestmark = pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")

CHANNEL = "C0INCIDENTS"
PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
CATALOG = """
defaults: {channel: C0GENERAL, admins: [U0ADMIN1]}
services:
  checkout:
    selector: {job: checkout}
    channel: C0INCIDENTS
    owners: S0ONCALL
    slo: {p99_ms: 800, availability_percent: 99.9}
"""


@dataclass
class Stack:
    bot: RunningBot
    emulator: RunningEmulator
    driver: SlackDriver

    async def send_alert(self, status: str, token: str = WEBHOOK_TOKEN) -> int:
        body = alertmanager_payload(status)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.bot.url}/alerts/alertmanager", json=body, headers=headers) as r,
        ):
            return r.status

    def roots(self) -> list[Message]:
        """Incident roots in the channel (the weekly digest may be posted there too)."""
        messages = self.emulator.state.channel_messages(CHANNEL)
        return [m for m in messages if "LatencyP99OverSLO" in m.text]

    def root(self) -> Message:
        (root,) = self.roots()
        return root

    def thread(self) -> list[Message]:
        return self.emulator.state.thread_replies(CHANNEL, self.root().ts)


def alertmanager_payload(status: str) -> dict[str, Any]:
    labels = {"alertname": "LatencyP99OverSLO", "job": "checkout", "severity": "critical"}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="LatencyP99OverSLO"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "triage-bot",
        "groupLabels": {"alertname": "LatencyP99OverSLO"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": status,
                "labels": {**labels, "instance": "checkout-1"},
                "annotations": {"summary": "checkout p99 is above its 800 ms target"},
                "startsAt": "2026-11-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": "a1b2c3d4e5f60718",
            }
        ],
    }


@contextlib.asynccontextmanager
async def running_stack(
    emulator: RunningEmulator,
    tmp_path: Path,
    exposition_text: str,
    ready_when: str = 'up{job="checkout"} == 1',
) -> AsyncIterator[Stack]:
    """The bot against a real Prometheus scraping `checkout`'s `exposition_text` (its counters
    growing) once the PromQL `ready_when` returns a series, alerts sent to the bot, Slack
    emulated."""
    (tmp_path / "services.yaml").write_text(CATALOG)
    emulator.state.add_user("U0CAROL", "carol")
    async with (
        serve_exposition(growing_counters(exposition_text)) as target,
        run_prometheus({"checkout": [target]}) as prometheus,
    ):
        await prometheus.wait_for_series(ready_when, within=60)
        settings = make_settings(
            emulator,
            PROMETHEUS_URL=prometheus.url,
            BOT_CONFIG_DIR=tmp_path,
            BOT_PLAYBOOK_DIR=PLAYBOOKS,
        )
        bot, runner = await start_bot(settings, MemoryStore())
        try:
            async with SlackDriver(
                bot.events_url, SIGNING_SECRET, emulator.response_sink_base
            ) as driver:
                yield Stack(bot, emulator, driver)
        finally:
            await runner.cleanup()


@pytest.fixture
async def stack(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path, fixture_text("promclient.txt")) as running:
        yield running


async def test_alert_opens_a_thread_with_a_triage_and_buttons_work(stack: Stack) -> None:
    assert await stack.send_alert("firing", token="wrong-token") == 401
    assert await stack.send_alert("firing") == 202
    assert await stack.send_alert("firing") == 202  # Alertmanager HA twin: no second root
    await eventually(holds(lambda: diagnosis_posted(stack)), 30)
    root = stack.root()
    assert "LatencyP99OverSLO" in root.text
    assert len(stack.roots()) == 1
    checklist = next(m for m in stack.thread() if "Checklist for" in str(m.blocks))
    assert checklist.edits, "the checklist is edited in place as steps finish"
    await eventually(holds(lambda: diagnosis_on_root(stack.root())), 30)

    refused = await stack.driver.click_button(
        "incident_ack",
        _incident_id(root),
        message_ts=root.ts,
        user_id="U0CAROL",
        channel_id=CHANNEL,
    )
    assert refused.status == 200
    await eventually(lambda: bool(stack.emulator.state.response_posts), 30)
    refusal = stack.emulator.state.response_posts[-1].body
    assert refusal["response_type"] == "ephemeral"
    assert "S0ONCALL" in refusal["text"]

    await stack.driver.click_button(
        "incident_ack",
        _incident_id(root),
        message_ts=root.ts,
        user_id="U0ALICE",
        channel_id=CHANNEL,
    )
    await eventually(holds(lambda: "acknowledged by <@U0ALICE>" in str(stack.root().blocks)), 30)

    assert await stack.send_alert("resolved") == 202
    await eventually(holds(lambda: stack.root().text.startswith("[resolved]")), 30)
    await eventually(holds(lambda: any("cleared" in m.text for m in stack.thread())), 30)
    assert len(stack.roots()) == 1


def diagnosis_posted(stack: Stack) -> bool:
    return any("Most likely cause" in str(m.blocks) for m in stack.thread())


def diagnosis_on_root(root: Message) -> bool:
    return any(words in str(root.blocks) for words in ("Likely cause", "Triage:"))


def _incident_id(root: Message) -> str:
    for block in root.blocks or []:
        if block["type"] == "actions":
            return str(block["elements"][0]["value"])
    raise AssertionError(json.dumps(root.blocks))


async def test_transcript_reads_like_the_slack_thread(stack: Stack) -> None:
    from emulator.transcript import channel_transcript

    assert await stack.send_alert("firing") == 202
    await eventually(holds(lambda: diagnosis_posted(stack)), 30)
    text = channel_transcript(stack.emulator.state, CHANNEL)
    print(text)
    assert "LatencyP99OverSLO" in text
    assert "Most likely cause" in text
    assert text.count("Checklist for") == 1
