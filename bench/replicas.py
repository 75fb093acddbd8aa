"""What the outbox benchmarks share: a private `redis-server`, `python -m bot serve` replicas
on it, the Slack emulator (in this process, with Slack's pace) and an Alertmanager-like sender.
Everything listens on 127.0.0.1 and is stopped on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from emulator.server import RunningEmulator, start_emulator

BOT_TOKEN = "xoxb-bench-token"
WEBHOOK_TOKEN = "bench-webhook-token"
REPO = Path(__file__).resolve().parents[1]
CHANNELS = ["C0BENCHONE", "C0BENCHTWO", "C0BENCHTHREE", "C0BENCHFOUR"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def private_redis() -> AsyncIterator[str]:
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is needed (Debian: apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        server = _redis_server(port, workdir)
        try:
            await _until_port_answers(port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=10)


def _redis_server(port: int, workdir: str) -> subprocess.Popen[bytes]:
    args = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    return subprocess.Popen([*args, "--dir", workdir], stdout=subprocess.DEVNULL)


def _write_catalog(config: str) -> None:
    services = {
        f"svc{n}": {"selector": {"job": f"svc{n}"}, "channel": channel}
        for n, channel in enumerate(CHANNELS)
    }
    Path(config, "services.yaml").write_text(
        yaml.safe_dump({"defaults": {"channel": CHANNELS[0]}, "services": services})
    )


async def _until_port_answers(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextlib.asynccontextmanager
async def slack() -> AsyncIterator[RunningEmulator]:
    async with await start_emulator(bot_token=BOT_TOKEN) as emulator:
        for channel in CHANNELS:
            emulator.state.add_channel(channel, channel.lower())
        yield emulator


@dataclass
class Bot:
    url: str
    process: asyncio.subprocess.Process

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for the bot process")


@contextlib.asynccontextmanager
async def bots(count: int, redis_url: str, emulator: RunningEmulator) -> AsyncIterator[list[Bot]]:
    """`count` replicas of `python -m bot serve` sharing `redis_url`, ready when yielded."""
    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
        _write_catalog(config)
        started: list[Bot] = []
        try:
            for _ in range(count):
                started.append(await _start_bot(redis_url, emulator, Path(config)))
            async with aiohttp.ClientSession() as session:
                for bot in started:
                    await _until_ready(session, bot.url)
            yield started
        finally:
            for bot in started:
                if bot.process.returncode is None:
                    bot.process.terminate()
            for bot in started:
                await asyncio.wait_for(bot.process.wait(), 30)


async def _start_bot(redis_url: str, emulator: RunningEmulator, config: Path) -> Bot:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "REDIS"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "ALERT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "SLACK_API_URL": emulator.url,
        "REDIS_URL": redis_url,
        "BOT_CONFIG_DIR": str(config),
        "BOT_PLAYBOOK_DIR": str(REPO / "playbooks"),
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_HTTP_PORT": str(port),
        "LOG_LEVEL": "ERROR",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return Bot(f"http://127.0.0.1:{port}", process)


async def _until_ready(session: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/readyz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


def notification(group: int, alerts: int, status: str = "firing") -> dict[str, Any]:
    service = f"svc{group % len(CHANNELS)}"
    name = f"BenchStorm{group:03d}"
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "bench",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "job": service},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "job": service, "instance": f"pod-{i}"},
                "annotations": {"summary": "bench"},
                "startsAt": "2026-11-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": f"{group:06x}{i:08x}",
            }
            for i in range(alerts)
        ],
    }


async def send(session: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
    """Post until accepted, as Alertmanager retries 5xx."""
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    for _ in range(100):
        async with session.post(f"{url}/alerts/alertmanager", json=payload, headers=headers) as r:
            if r.status < 300:
                return
            if r.status < 500:
                raise RuntimeError(f"the bot refused a notification: {r.status}")
        await asyncio.sleep(0.2)
    raise RuntimeError("a notification was never accepted")
