"""How a triage fans out to Prometheus: query count, peak concurrency, wall time, loop lag.

    .venv/bin/python -m bench.triage_fanout [--delay 0.2] [--jitter 0.5] [--triages 20]

A Prometheus stand-in (aiohttp on 127.0.0.1, free port, on a thread of its own) answers
every query after a set delay (plus up to `jitter` x delay, fixed per query text) with
plausible series. For one triage it prints the queries made, the most in flight at once
(must stay <= 4) and the wall time against the ideal max(slowest, sum/4) (target: within
1.2x + 50 ms). Then it runs `--triages` triages at once for `--rounds` rounds and prints the
bot's own event-loop lag p99 next to an idle baseline (target < 10 ms). Convention
detection (one metric-name lookup) runs first, as a running bot caches it per service, and
is timed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.server_thread import ServerThread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.catalog import Service
from bot.sources.nodejs_conventions import PROM_CLIENT
from bot.sources.prometheus import PrometheusClient
from bot.triage.engine import TriageRequest, run_triage
from bot.triage.playbook import load_playbooks
from bot.triage.service_source import build_signal_source
from bot.triage.window import parse_window

ROOT = Path(__file__).resolve().parents[1]
SIGNAL_TAG = re.compile(r'"__signal__", "([^"]+)"')
CAP = 4


@dataclass
class StandIn:
    delay: float
    jitter: float
    in_flight: int = 0
    peak: int = 0
    delays: list[float] = field(default_factory=list)

    def delay_for(self, text: str) -> float:
        spread = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return self.delay * (1 + self.jitter * spread)

    async def answer(self, request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else request.query
        query = str(form.get("query", ""))
        delay = self.delay_for(query or request.path)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.delays.append(delay)
        try:
            await asyncio.sleep(delay)
        finally:
            self.in_flight -= 1
        if request.path.endswith("/values"):
            names = sorted(
                {n for rs in PROM_CLIENT.recipes.values() for r in rs for n in r.required}
            )
            return web.json_response({"status": "success", "data": names})
        return web.json_response({"status": "success", "data": _matrix(query, form)})

    def reset(self) -> None:
        self.peak, self.delays = 0, []


def _matrix(query: str, form: Any) -> dict[str, Any]:
    start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
    stamps = [start + i * step for i in range(int((end - start) / step) + 1)]
    keys = SIGNAL_TAG.findall(query) or [""]
    result = [
        {
            "metric": {"__signal__": key, "server_address": "pricing:3100"},
            "values": [[t, str(0.01 + (i % 5) * 0.001)] for i, t in enumerate(stamps)],
        }
        for key in keys
    ]
    return {"resultType": "matrix", "result": result}


PLAYBOOK = load_playbooks(ROOT / "playbooks")["nodejs"]


async def one_triage(source: Any) -> float:
    playbook = PLAYBOOK
    request = TriageRequest(
        service="checkout",
        window=parse_window("10m", end=time.time()),
        playbook=playbook,
        source=source,
    )
    started = time.perf_counter()
    await run_triage(request)
    return time.perf_counter() - started


async def loop_lag_while(work: Any, tick: float = 0.005) -> list[float]:
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(tick)
            lags.append(max(0.0, time.perf_counter() - before - tick))

    prober = asyncio.create_task(probe())
    await work
    done.set()
    await prober
    return lags


def _p99(lags: list[float]) -> float:
    return statistics.quantiles(lags, n=100)[98] if len(lags) >= 2 else 0.0


async def main(args: argparse.Namespace) -> int:
    stand_in = StandIn(args.delay, args.jitter)
    server = ServerThread(stand_in.answer, ["/api/v1/query_range", "/api/v1/label/__name__/values"])
    url = server.start()
    service = Service(name="checkout", selector={"service": "checkout"})
    try:
        async with PrometheusClient(url) as client:
            detect_started = time.perf_counter()
            source = await build_signal_source(client.caller(cap=CAP), service)
            detection = time.perf_counter() - detect_started
            stand_in.reset()
            wall = await one_triage(source)
            ideal = max(*stand_in.delays, sum(stand_in.delays) / CAP)
            ok_fanout = stand_in.peak <= CAP and wall <= 1.2 * ideal + 0.05
            print(f"convention detection: 1 query, {detection * 1000:.0f} ms (cached per service)")
            print(f"queries per triage:   {len(stand_in.delays)}")
            print(f"max in flight:        {stand_in.peak} (cap {CAP})")
            print(
                f"wall time:            {wall * 1000:.0f} ms; ideal {ideal * 1000:.0f} ms "
                f"({wall / ideal:.2f}x) -> {'OK' if ok_fanout else 'MISSED'}"
            )
            sources = [
                await build_signal_source(client.caller(cap=CAP), service)
                for _ in range(args.triages)
            ]
            baseline = _p99(await loop_lag_while(asyncio.sleep(1.0)))
            stand_in.reset()
            lags: list[float] = []
            for _ in range(args.rounds):
                lags += await loop_lag_while(asyncio.gather(*(one_triage(s) for s in sources)))
        p99 = _p99(lags)
        print(
            f"{args.triages} triages at once, {args.rounds} rounds: {len(stand_in.delays)} "
            f"queries, loop lag p99 {p99 * 1000:.1f} ms (idle baseline "
            f"{baseline * 1000:.1f} ms) -> {'OK' if p99 < 0.010 else 'MISSED'}"
        )
        return 0 if ok_fanout and p99 < 0.010 else 1
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--jitter", type=float, default=0.5, help="extra delay, share of --delay")
    parser.add_argument("--triages", type=int, default=20, help="concurrent triages for lag")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of concurrent triages")
    sys.exit(asyncio.run(main(parser.parse_args())))
