"""Several `python -m bot serve` processes on one Redis, a Slack emulator that enforces Slack's
pace and loses some replies, and an Alertmanager stand-in that sends every notification to two
replicas and retries as Alertmanager does (5xx and dropped connections, with back-off)."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.outbox.ops import op_of
from emulator.manifest import manifest_scopes
from emulator.records import Message
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN
from tests.redis_servers import free_port
from tests.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
CHANNELS = ["C0HAONE", "C0HATWO", "C0HATHREE", "G0HAPRIVATE"]
MANIFEST = REPO / "config" / "slack-app-manifest.yaml"


def prepare_emulator(emulator: RunningEmulator, lost_share: float = 0.1) -> None:
    """Slack's pace (the emulator's defaults), the app's scopes, a private channel, and a share
    of posts whose answer is lost after Slack kept them."""
    for channel in CHANNELS:
        emulator.state.add_channel(channel, channel.lower(), is_private=channel.startswith("G"))
    emulator.state.scopes = manifest_scopes(MANIFEST)
    emulator.state.lost_replies.configure(share=lost_share, seed=23)


def catalog(path: Path) -> Path:
    services = {
        f"svc{n}": {"selector": {"job": f"svc{n}"}, "channel": channel}
        for n, channel in enumerate(CHANNELS)
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "services.yaml").write_text(
        yaml.safe_dump({"defaults": {"channel": "C0GENERAL"}, "services": services})
    )
    return path


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", env=self.env, cwd=REPO,
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def ready(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.url}/readyz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False


@dataclass
class Cluster:
    replicas: list[Replica]
    emulator: RunningEmulator
    session: aiohttp.ClientSession
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)

    async def start(self) -> None:
        await asyncio.gather(*(replica.start() for replica in self.replicas))
        await eventually(self.all_ready, 60, every=0.2, what="every replica ready")

    async def all_ready(self) -> bool:
        checks = await asyncio.gather(*(r.ready(self.session) for r in self.replicas))
        return all(checks)

    async def stop(self) -> None:
        await asyncio.gather(*(replica.stop() for replica in self.replicas))

    async def notify(self, payload: dict[str, Any], pair: int) -> None:
        """Send one notification to two replicas, as an Alertmanager HA pair would."""
        first = self.replicas[pair % len(self.replicas)]
        second = self.replicas[(pair + 1) % len(self.replicas)]
        await asyncio.gather(self._deliver(first, payload), self._deliver(second, payload))

    async def _deliver(self, replica: Replica, payload: dict[str, Any]) -> None:
        """Retry until a 2xx, as Alertmanager does on 5xx and connection errors."""
        delay = 0.2
        deadline = time.monotonic() + 120
        headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
        while True:
            try:
                async with self.session.post(
                    f"{replica.url}/alerts/alertmanager", json=payload, headers=headers
                ) as response:
                    self.statuses[response.status] += 1
                    if response.status < 300:
                        return
                    assert response.status >= 500, await response.text()
            except (aiohttp.ClientError, TimeoutError):
                self.statuses[0] += 1  # the replica is down: connection refused
            assert time.monotonic() < deadline, "a notification was never accepted"
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)


def start_cluster_env(
    emulator: RunningEmulator, redis_url: str, config: Path, count: int = 3
) -> list[tuple[str, int, dict[str, str]]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "REDIS_"))}
    replicas = []
    for number in range(count):
        port = free_port()
        env = {
            **base,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ALERT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "SLACK_API_URL": emulator.url,
            "REDIS_URL": redis_url,
            "BOT_CONFIG_DIR": str(config),
            "BOT_PLAYBOOK_DIR": str(REPO / "playbooks"),
            "BOT_HTTP_HOST": "127.0.0.1",
            "BOT_HTTP_PORT": str(port),
            "LOG_FORMAT": "json",
        }
        replicas.append((f"replica-{number}", port, env))
    return replicas


# The storm: incidents spread over the channels, each with alerts firing in two notifications
# (as Alertmanager re-sends a group with its new alerts), then resolved.


def notification(incident: int, instances: list[str], status: str) -> dict[str, Any]:
    service = f"svc{incident % len(CHANNELS)}"
    name = f"HaStorm{incident:02d}"
    alerts = [
        {
            "status": status,
            "labels": {"alertname": name, "job": service, "instance": i, "severity": "critical"},
            "annotations": {"summary": f"{name} on {i}"},
            "startsAt": "2026-11-02T09:00:00Z",
            "endsAt": "2026-11-02T09:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": f"{name}-{i}",
        }
        for i in instances
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "triage-bot",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "job": service},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts,
    }


def storm_waves(incidents: int) -> list[list[tuple[int, dict[str, Any]]]]:
    """Three waves of (incident, notification): first alert, second alert, all resolved."""
    return [
        [(n, notification(n, ["a"], "firing")) for n in range(incidents)],
        [(n, notification(n, ["a", "b"], "firing")) for n in range(incidents)],
        [(n, notification(n, ["a", "b"], "resolved")) for n in range(incidents)],
    ]


def roots(emulator: RunningEmulator, incident: int) -> list[Message]:
    channel = CHANNELS[incident % len(CHANNELS)]
    name = f"HaStorm{incident:02d}"
    return [m for m in emulator.state.channel_messages(channel) if name in m.text]


def all_resolved(emulator: RunningEmulator, incidents: int) -> bool:
    for incident in range(incidents):
        found = roots(emulator, incident)
        if len(found) != 1 or not found[0].text.startswith("[resolved]"):
            return False
        notes = emulator.state.thread_replies(found[0].channel, found[0].ts)
        if not any("cleared" in note.text for note in notes):
            return False
    return True


@dataclass(frozen=True)
class Verdict:
    roots_per_incident: dict[int, int]
    repeated_ops: dict[str, int]
    repeated_notes: list[str]
    unresolved: list[int]
    post_attempts: int
    rate_limited: int

    def explain(self) -> str:
        return json.dumps(self.__dict__, default=str, indent=1)


def judge(emulator: RunningEmulator, incidents: int) -> Verdict:
    per_incident = {n: len(roots(emulator, n)) for n in range(incidents)}
    ops: collections.Counter[str] = collections.Counter()
    repeated_notes: list[str] = []
    for channel in CHANNELS:
        messages = emulator.state.messages.get(channel, [])
        ops.update(op for m in messages if (op := op_of(m.to_record())) is not None)
        for root in emulator.state.channel_messages(channel):
            texts = [m.text for m in emulator.state.thread_replies(channel, root.ts) if m.text]
            repeated_notes += [t for t, c in collections.Counter(texts).items() if c > 1]
    unresolved = [
        n
        for n in range(incidents)
        if not all(r.text.startswith("[resolved]") for r in roots(emulator, n))
    ]
    posts = emulator.state.calls_to("chat.postMessage")
    return Verdict(
        roots_per_incident=per_incident,
        repeated_ops={op: count for op, count in ops.items() if count > 1},
        repeated_notes=repeated_notes,
        unresolved=unresolved,
        post_attempts=len(posts),
        rate_limited=sum(1 for call in posts if call.status == 429),
    )
