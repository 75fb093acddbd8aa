"""How long one channel's weekly digest takes to build for 50 services, under the query cap.

    .venv/bin/python -m bench.digest_build [--services 50] [--delay 0.02] [--cap 4]
    .venv/bin/python -m bench.digest_build --prometheus-url http://127.0.0.1:9090

By default a Prometheus stand-in (aiohttp on 127.0.0.1, a free port, on a thread of its own)
answers every query after `--delay` seconds with plausible prom-client series, so the time is
the bot's: query fan-out under the cap, parsing, figures and (with charts) rendering. With
`--prometheus-url` the same build runs against a real Prometheus instead. Prints the queries
made, the most in flight at once (must stay <= cap), the build time without and with charts,
and the bot's event-loop lag p99 during the build.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.server_thread import ServerThread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.catalog import Catalog, Service
from bot.digest.compose import DigestComposer
from bot.digest.period import DigestPeriod, iso_week
from bot.sources.nodejs_conventions import PROM_CLIENT
from bot.sources.prometheus import PrometheusClient

CHANNEL = "C0BENCH001"
NAMES = sorted({n for rs in PROM_CLIENT.recipes.values() for r in rs for n in r.required})


@dataclass
class StandIn:
    delay: float
    in_flight: int = 0
    peak: int = 0
    answered: int = 0

    async def answer(self, request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else request.query
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
            self.answered += 1
        if request.path.endswith("/values"):
            return web.json_response({"status": "success", "data": NAMES})
        if request.path.endswith("/query_range"):
            return web.json_response({"status": "success", "data": _matrix(form)})
        return web.json_response({"status": "success", "data": _vector(form)})


def _labels(i: int) -> dict[str, str]:
    return {"route": f"/route/{i}", "server_address": f"dep-{i}:80"}


def _vector(form: Any) -> dict[str, Any]:
    at = float(form.get("time", time.time()))
    result = [{"metric": _labels(i), "value": [at, str(0.05 * (i + 1))]} for i in range(5)]
    return {"resultType": "vector", "result": result}


def _matrix(form: Any) -> dict[str, Any]:
    start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
    stamps = [start + i * step for i in range(int((end - start) / step) + 1)]
    values = [[t, str(1e8 * (1 + i / len(stamps)) + (i % 7))] for i, t in enumerate(stamps)]
    return {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}


def bench_catalog(count: int) -> Catalog:
    services = {
        f"svc-{i:02d}": Service(name=f"svc-{i:02d}", selector={"job": f"svc-{i:02d}"})
        for i in range(count)
    }
    return Catalog.model_validate({"services": services, "defaults": {"channel": CHANNEL}})


async def timed_build(composer: DigestComposer, period: DigestPeriod) -> tuple[float, float]:
    """Build time and the loop lag p99 measured meanwhile (5 ms probe)."""
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(max(0.0, time.perf_counter() - before - 0.005))

    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    await composer.build(period)
    elapsed = time.perf_counter() - started
    done.set()
    await prober
    p99 = statistics.quantiles(lags, n=100)[98] if len(lags) >= 2 else 0.0
    return elapsed, p99


async def main(args: argparse.Namespace) -> int:
    stand_in = StandIn(args.delay)
    server = None if args.prometheus_url else ServerThread(stand_in.answer, ["/api/v1/{path:.*}"])
    url = args.prometheus_url or server.start()  # type: ignore[union-attr]
    catalog = bench_catalog(args.services)
    end = datetime.now(UTC)
    period = DigestPeriod(CHANNEL, iso_week(end), end)
    backend = "real Prometheus" if args.prometheus_url else f"stand-in ({args.delay * 1000:g} ms)"
    try:
        async with PrometheusClient(url) as client:
            plain = DigestComposer(catalog, client, cap=args.cap, charts=False)
            figures_time, figures_lag = await timed_build(plain, period)
            queries = client.queries_made
            charted = DigestComposer(catalog, client, cap=args.cap, charts=True)
            chart_time, chart_lag = await timed_build(charted, period)
    finally:
        if server is not None:
            server.stop()
    print(f"backend:              {backend}")
    print(f"services:             {args.services}")
    print(f"queries per build:    {queries} ({queries / args.services:.0f} per service)")
    if server is not None:
        print(f"max in flight:        {stand_in.peak} (cap {args.cap})")
    print(f"build, figures only:  {figures_time:.2f} s (loop lag p99 {figures_lag * 1000:.1f} ms)")
    print(f"build, with charts:   {chart_time:.2f} s (loop lag p99 {chart_lag * 1000:.1f} ms)")
    return 0 if server is None or stand_in.peak <= args.cap else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50, help="services in the channel")
    parser.add_argument("--delay", type=float, default=0.02, help="stand-in seconds per answer")
    parser.add_argument("--cap", type=int, default=4, help="queries in flight per build")
    parser.add_argument("--prometheus-url", help="use this Prometheus instead of the stand-in")
    sys.exit(asyncio.run(main(parser.parse_args())))
