"""How fast `/triage` is acknowledged while alerts pour in and triages run.

    .venv/bin/python bench/command_ack.py [--alerts-per-second 500] [--triages 10]
                                          [--commands 200] [--seconds 10]

The bot runs in this process with the in-memory store. Child processes, so that their work
does not compete with the bot for the interpreter: the Slack emulator with a Prometheus
stand-in (every query answered after `--prom-delay` seconds, so triages stay busy); one
posting Alertmanager webhooks (five alert names, 2,000 distinct alerts) at the given rate;
the other sends signed `/triage` commands at an even pace and times each HTTP
answer. `--triages` triages are started first from as many users; the measured commands come
from one user, so past the per-user limit they are refused after the ack, which takes the
same path. Everything binds 127.0.0.1 and stops after `--seconds` (plus a grace period).
Target: ack p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.settings import Settings
from bot.store import MemoryStore
from emulator.driver import SlackDriver
from emulator.server import start_emulator

ROOT = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-bench-0000-token"
SIGNING_SECRET = "bench-signing-secret"
WEBHOOK_TOKEN = "bench-webhook-token"
CATALOG = "defaults: {channel: C0INCIDENTS}\nservices:\n  checkout: {selector: {job: checkout}}\n"
NAMES = ["http_request_duration_seconds_bucket", "nodejs_eventloop_lag_p99_seconds"]
ALERT_NAMES = [f"BenchAlert{i}" for i in range(5)]
GRACE_SECONDS = 20.0


def prometheus_stand_in(delay: float) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        if "label/__name__/values" in request.path:
            return web.json_response({"status": "success", "data": NAMES})
        data = {"resultType": "vector", "result": []}
        if request.path.endswith("query_range"):
            data = {"resultType": "matrix", "result": []}
        return web.json_response({"status": "success", "data": data})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def alert_payload(serial: int) -> dict[str, Any]:
    name = ALERT_NAMES[serial % len(ALERT_NAMES)]
    labels = {"alertname": name, "job": "checkout", "severity": "warning"}
    alert = {
        "status": "firing",
        "labels": {**labels, "instance": f"checkout-{serial % 50}"},
        "annotations": {"summary": "bench"},
        "startsAt": "2026-11-02T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"{serial % 2000:016x}",
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "bench",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [alert],
    }


async def sidecar_role(prom_delay: float) -> None:
    """Run the Slack emulator and the Prometheus stand-in until stdin closes."""
    async with await start_emulator(bot_token=BOT_TOKEN) as emulator:
        prom_runner, prom_url = await serve(prometheus_stand_in(prom_delay))
        urls = {"slack": emulator.url, "sink": emulator.response_sink_base, "prom": prom_url}
        print(json.dumps(urls), flush=True)
        await asyncio.to_thread(sys.stdin.read)
        await prom_runner.cleanup()


async def load_role(url: str, rate: float, seconds: float) -> dict[str, Any]:
    """Post alerts at `rate` per second for `seconds`; count answers by status."""
    statuses: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=10)
    limit = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(timeout=timeout, connector=limit) as session:

        async def post(serial: int) -> None:
            try:
                async with session.post(url, json=alert_payload(serial), headers=headers) as r:
                    key = str(r.status)
            except (aiohttp.ClientError, TimeoutError) as error:
                key = type(error).__name__
            statuses[key] = statuses.get(key, 0) + 1

        pending = []
        started = time.monotonic()
        for serial in range(int(rate * seconds)):
            await _until(started + serial / rate)
            pending.append(asyncio.create_task(post(serial)))
        await asyncio.gather(*pending)
        elapsed = time.monotonic() - started
    return {"statuses": statuses, "rate": sum(statuses.values()) / elapsed}


async def measure_role(url: str, sink: str, count: int, seconds: float) -> dict[str, Any]:
    """Send `count` `/triage` commands evenly over `seconds`; time each acknowledgement."""
    latencies: list[float] = []
    async with SlackDriver(url, SIGNING_SECRET, sink) as driver:

        async def one() -> None:
            started = time.perf_counter()
            reply = await driver.slash_command("/triage", "checkout", user_id="U0MEASURE")
            if reply.status == 200 and "running" in reply.body:
                latencies.append(time.perf_counter() - started)

        started = time.monotonic()
        tasks = []
        for index in range(count):
            await _until(started + index * seconds / count)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return {"latencies": latencies}


async def _until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def child(role: str, *args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--role", role, *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        limit = float(args[-1]) + GRACE_SECONDS
        out, _ = await asyncio.wait_for(process.communicate(), timeout=limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    result: dict[str, Any] = json.loads(out.decode())
    return result


async def bench(args: argparse.Namespace) -> None:

    sidecar = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--role",
        "sidecar",
        "--prom-delay",
        str(args.prom_delay),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert sidecar.stdin is not None
    assert sidecar.stdout is not None
    try:
        urls = json.loads(await asyncio.wait_for(sidecar.stdout.readline(), timeout=30))
        await bench_bot(args, urls)
    finally:
        sidecar.stdin.close()
        try:
            await asyncio.wait_for(sidecar.wait(), timeout=10)
        except TimeoutError:
            sidecar.kill()
            await sidecar.wait()


async def bench_bot(args: argparse.Namespace, urls: dict[str, str]) -> None:
    from bot.app import create_app
    from bot.config import load_config
    from bot.logs import configure_logging
    from bot.wiring import build_wiring

    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory(prefix="bench-") as config_dir:
        (Path(config_dir) / "services.yaml").write_text(CATALOG)
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            ALERT_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            SLACK_API_URL=urls["slack"],
            SLACK_RESPONSE_URL_ORIGINS=urls["slack"].removesuffix("/api/"),
            PROMETHEUS_URL=urls["prom"],
            BOT_CONFIG_DIR=config_dir,
            BOT_PLAYBOOK_DIR=ROOT / "playbooks",
            LOG_LEVEL="WARNING",
        )
        wiring = build_wiring(settings, MemoryStore(), load_config(settings))
        runner, bot_url = await serve(create_app(wiring))
        try:
            await run_load(args, wiring, bot_url, urls["sink"])
        finally:
            await runner.cleanup()


async def run_load(args: argparse.Namespace, wiring: Any, bot_url: str, sink: str) -> None:
    events = f"{bot_url}/slack/events"
    async with SlackDriver(events, SIGNING_SECRET, sink) as driver:
        for index in range(args.triages):
            await driver.slash_command("/triage", "checkout 30m", user_id=f"U0BENCH{index:02d}")
    await asyncio.sleep(0.2)
    running_at_start = wiring.tasks.active
    seconds = str(args.seconds)
    load, measured = await asyncio.gather(
        child("load", f"{bot_url}/alerts/alertmanager", str(args.alerts_per_second), seconds),
        child("measure", events, sink, str(args.commands), seconds),
    )
    report(args, running_at_start, load, measured["latencies"])


def report(
    args: argparse.Namespace, running: int, load: dict[str, Any], latencies: list[float]
) -> None:
    if len(latencies) < 2:
        print(f"only {len(latencies)} acknowledgements measured; nothing to report")
        return
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(f"background tasks when measuring began: {running} (>= {args.triages} triages)")
    print(f"alerts: {load['rate']:.0f}/s sent, answers {load['statuses']}")
    print(f"/triage acks measured: {len(latencies)} of {args.commands}")
    print(f"ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    print("target p99 < 200 ms: " + ("met" if p99 < 200 else "MISSED"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts-per-second", type=float, default=500.0)
    parser.add_argument("--triages", type=int, default=10)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--prom-delay", type=float, default=0.5)
    parser.add_argument("--role", choices=["sidecar", "load", "measure"], help=argparse.SUPPRESS)
    known, rest = parser.parse_known_args()
    if known.role == "sidecar":
        asyncio.run(sidecar_role(known.prom_delay))
    elif known.role == "load":
        print(json.dumps(asyncio.run(load_role(rest[0], float(rest[1]), float(rest[2])))))
    elif known.role == "measure":
        result = measure_role(rest[0], rest[1], int(rest[2]), float(rest[3]))
        print(json.dumps(asyncio.run(result)))
    else:
        asyncio.run(bench(known))


if __name__ == "__main__":
    main()
