"""Alert webhook intake: throughput, ack latency, Slack calls per incident, time to root message.

    .venv/bin/python -m bench.webhooks

The bot runs as its own `python -m bot serve` process (in-memory store) against the Slack
emulator in a second process; a bare aiohttp handler that only parses the same JSON runs as a
third for comparison. All traffic stays on 127.0.0.1 and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "bench-webhook-token"
BOT_TOKEN = "xoxb-bench-token"
CHANNEL = "C0INCIDENTS"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def notification(group: int, instances: int = 3) -> dict[str, Any]:
    name = f"BenchAlert{group}"
    labels = {"alertname": name, "job": "checkout", "severity": "warning"}
    alerts = [
        {
            "status": "firing",
            "labels": {**labels, "instance": f"pod-{i}"},
            "annotations": {"summary": "bench"},
            "startsAt": "2026-11-02T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": f"{group:08x}{i:08x}",
        }
        for i in range(instances)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "bot",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    }


async def serve_bare(port: int) -> None:
    async def handler(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.json_response({"accepted": True}, status=202)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/alerts/alertmanager", handler)
    await web._run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@contextlib.asynccontextmanager
async def process(*args: str, env: dict[str, str], ready_url: str) -> AsyncIterator[None]:
    child = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await wait_ready(ready_url)
        yield
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), 20)


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


async def throughput(url: str, bodies: list[bytes], concurrency: int) -> float:
    queue = list(bodies)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            async with session.post(url, data=queue.pop(), headers=headers) as response:
                assert response.status == 202, response.status

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return len(bodies) / (time.perf_counter() - started)


async def paced_latency(url: str, bodies: list[bytes], rate: float) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=200)

    async def one(session: aiohttp.ClientSession, body: bytes) -> None:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
        latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        start = time.perf_counter()
        for index, body in enumerate(bodies):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, body)))
        await asyncio.gather(*tasks)
    return latencies


async def time_to_root(bot: str, emulator: str, groups: range) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    delays = []
    async with aiohttp.ClientSession() as session:
        for group in groups:
            before = await root_count(session, emulator)
            started = time.perf_counter()
            url = f"{bot}/alerts/alertmanager"
            async with session.post(url, json=notification(group), headers=headers) as response:
                assert response.status == 202
            while await root_count(session, emulator) == before:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("no root message within 30 s")
                await asyncio.sleep(0.01)
            delays.append(time.perf_counter() - started)
            # Each incident posts a root and a checklist reply: stay outside that posting pace.
            await asyncio.sleep(2.2)
    return delays


async def root_count(session: aiohttp.ClientSession, emulator: str) -> int:
    async with session.get(f"{emulator}/_emulator/messages", params={"channel": CHANNEL}) as r:
        return len((await r.json())["messages"])


async def slack_calls(emulator: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{emulator}/_emulator/calls") as r:
        calls = (await r.json())["calls"]
    return sum(1 for call in calls if call["method"] != "auth.test")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(requests: int, rate: float) -> None:
    bot_port, emulator_port, bare_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "REDIS"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "ALERT_WEBHOOK_TOKEN": TOKEN,
        "SLACK_API_URL": f"http://127.0.0.1:{emulator_port}/api/",
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_HTTP_PORT": str(bot_port),
        "LOG_LEVEL": "ERROR",
    }
    emulator = f"http://127.0.0.1:{emulator_port}"
    bot = f"http://127.0.0.1:{bot_port}"
    bare = f"http://127.0.0.1:{bare_port}"
    py = sys.executable
    # Repeated notifications for a few groups, as during a storm; first one per group opens it.
    bodies = [json.dumps(notification(i % 20)).encode() for i in range(requests)]
    async with (
        process(
            py,
            "-m",
            "emulator",
            "--port",
            str(emulator_port),
            env=env,
            ready_url=f"{emulator}/_emulator/state",
        ),
        process(py, "-m", "bot", "serve", env=env, ready_url=f"{bot}/healthz"),
        process(
            py,
            "-m",
            "bench.webhooks",
            "--serve-bare",
            str(bare_port),
            env=env,
            ready_url=f"{bare}/alerts/alertmanager",
        ),
    ):
        bot_rps = await throughput(f"{bot}/alerts/alertmanager", bodies, 32)
        bare_rps = await throughput(f"{bare}/alerts/alertmanager", bodies, 32)
        bot_lat = await paced_latency(f"{bot}/alerts/alertmanager", bodies, rate)
        bare_lat = await paced_latency(f"{bare}/alerts/alertmanager", bodies, rate)
        await asyncio.sleep(25)  # let the outbox post the storm's 20 roots at Slack's pace
        calls = await slack_calls(emulator)
        roots = await time_to_root(bot, emulator, range(100, 120))
    print(
        f"webhooks accepted per second: bot {bot_rps:,.0f}, bare aiohttp parse {bare_rps:,.0f} "
        f"({bot_rps / bare_rps:.0%} of bare)"
    )
    for name, lat in (("bot", bot_lat), ("bare", bare_lat)):
        print(
            f"ack latency at {rate:,.0f}/s ({name}): p50 {percentile(lat, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.1f} ms"
        )
    print(
        f"Slack calls per incident during the storm: {calls / 20:.1f} "
        f"({calls} calls for 20 incidents and {2 * requests:,} notifications)"
    )
    print(
        f"webhook to root message: p50 {statistics.median(roots) * 1000:.0f} ms, "
        f"p95 {percentile(roots, 0.95) * 1000:.0f} ms over {len(roots)} new incidents"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        asyncio.run(serve_bare(args.serve_bare))
    else:
        asyncio.run(main(args.requests, args.rate))
