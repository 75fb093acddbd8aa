"""A running bot with a catalog of its own, the Slack emulator and a signed-request driver.

`commands` runs without Prometheus (usage, typos, permissions, limits, incidents, App Home);
`live` adds a real Prometheus scraping a prom-client exposition, as the flow tests do.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.store import MemoryStore
from emulator.driver import SlackDriver
from emulator.records import ResponsePost
from emulator.server import RunningEmulator
from tests.conftest import SIGNING_SECRET, WEBHOOK_TOKEN, RunningBot, make_settings, start_bot
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.waiting import eventually

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
INCIDENTS = "C0INCIDENTS"
GENERAL = "C0GENERAL"
ADMIN = "U0ADMIN1"
OWNER = "U0ALICE"  # in the emulator's @oncall group S0ONCALL
STRANGER = "U0BOB"
CATALOG = """
defaults: {channel: C0INCIDENTS, admins: [U0ADMIN1]}
permissions: {slo: admins}
services:
  checkout:
    selector: {job: checkout}
    owners: S0ONCALL
    slo: {p50_ms: 200, p99_ms: 800, availability_percent: 99.9, pool_size: 10}
  payments:
    selector: {job: payments}
"""


@dataclass
class Commands:
    bot: RunningBot
    emulator: RunningEmulator
    driver: SlackDriver

    async def send_alert(self, status: str = "firing", alertname: str = "HighErrorRate") -> None:
        headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
        url = f"{self.bot.url}/alerts/alertmanager"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=alertmanager_payload(status, alertname), headers=headers) as r,
        ):
            assert r.status == 202, await r.text()

    async def open_incident_id(self, alertname: str = "HighErrorRate") -> str:
        await self.send_alert("firing", alertname)
        ids = await self.bot.wiring.store.open_incident_ids()
        for incident_id in ids:
            incident = await self.bot.wiring.deps.incidents.repository.get(incident_id)
            if incident is not None and incident.alertname == alertname:
                return incident_id
        raise AssertionError(f"no incident for {alertname} among {ids}")

    def responses_for(self, user: str) -> list[ResponsePost]:
        return [p for p in self.emulator.state.response_posts if p.user == user]

    async def next_response(self, user: str, after: int = 0, within: float = 20.0) -> ResponsePost:
        """The first response_url post to `user` beyond the `after` already seen."""
        await eventually(lambda: len(self.responses_for(user)) > after, within)
        return self.responses_for(user)[after]


def alertmanager_payload(status: str, alertname: str) -> dict[str, Any]:
    labels = {"alertname": alertname, "job": "checkout", "severity": "critical"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "triage-bot",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": status,
                "labels": {**labels, "instance": "checkout-1"},
                "annotations": {"summary": f"{alertname} on checkout"},
                "startsAt": "2026-11-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": hashlib.sha256(alertname.encode()).hexdigest()[:16],
            }
        ],
    }


def text_of(post: ResponsePost) -> str:
    """A response's text and blocks as one string to search in."""
    return f"{post.body.get('text', '')}\n{post.body.get('blocks', '')}"


@pytest.fixture
async def commands(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[Commands]:
    async with _running(emulator, tmp_path, CATALOG) as running:
        yield running


@pytest.fixture
async def live(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[Commands]:
    if not prometheus_available():
        pytest.skip("needs /usr/bin/prometheus")
    exposition = growing_counters(fixture_text("promclient.txt"))
    async with (
        serve_exposition(exposition) as target,
        run_prometheus({"checkout": [target]}) as prometheus,
    ):
        await prometheus.wait_for_series('up{job="checkout"} == 1')
        await prometheus.wait_for_series(
            'rate(http_request_duration_seconds_count{job="checkout"}[1m]) > 0'
        )
        async with _running(emulator, tmp_path, CATALOG, PROMETHEUS_URL=prometheus.url) as running:
            yield running


class _running:
    """Start a bot on `catalog`; stop it however the block exits."""

    def __init__(
        self, emulator: RunningEmulator, tmp_path: Path, catalog: str, **settings: object
    ) -> None:
        self._emulator = emulator
        self._dir = tmp_path
        self._catalog = catalog
        self._settings = settings

    async def __aenter__(self) -> Commands:
        (self._dir / "services.yaml").write_text(self._catalog)
        for user, name in ((ADMIN, "admin"), ("U0CAROL", "carol")):
            self._emulator.state.add_user(user, name)
        settings = make_settings(
            self._emulator, BOT_CONFIG_DIR=self._dir, BOT_PLAYBOOK_DIR=PLAYBOOKS, **self._settings
        )
        self._bot, self._runner = await start_bot(settings, MemoryStore())
        self._driver = SlackDriver(
            self._bot.events_url, SIGNING_SECRET, self._emulator.response_sink_base
        )
        return Commands(self._bot, self._emulator, self._driver)

    async def __aexit__(self, *_exc: object) -> None:
        await self._driver.close()
        await self._runner.cleanup()
