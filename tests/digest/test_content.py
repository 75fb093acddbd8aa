"""Digest content against a real Prometheus holding two weeks of backfilled history."""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.catalog import Catalog, parse_catalog
from bot.digest.cli import run_digest_cli
from bot.digest.cli_args import add_digest_parser
from bot.digest.compose import DigestComposer, DigestUnavailable
from bot.digest.figures import (
    Availability,
    EventLoop,
    Latency,
    Memory,
    Missing,
    Pool,
    Ranked,
    ServiceFigures,
    Throughput,
)
from bot.digest.period import DigestPeriod, iso_week
from bot.outbox.ops import Post, Upload
from bot.slack.render.digest import ChannelDigest, digest_ops, digest_text
from bot.sources.base import MetricsQuerier
from bot.sources.prometheus import PrometheusClient
from tests.digest.history import PROMTOOL, STEP, ServiceHistory, backfilled_prometheus
from tests.promstack import free_port, prometheus_available, serve_app

pytestmark = pytest.mark.skipif(
    not (prometheus_available() and PROMTOOL.exists()), reason="needs prometheus and promtool"
)

CHANNEL = "C0TEAM0001"
CHECKOUT = ServiceHistory(
    "checkout",
    rps=50.0,
    error_share=0.0005,
    latency_scale=1.5,
    downstreams={"pricing:3100": 0.2, "stock:3200": 0.05},
    lag_spike=0.7,
    heap_growth=0.5,
    pool=(20, 19),
    pending_hours=5,
)
LEDGER = ServiceHistory("ledger", rps=10.0, lag_p99=None, rss_growth=0.4)
CATALOG = f"""
defaults: {{channel: {CHANNEL}}}
services:
  checkout:
    selector: {{job: checkout}}
    slo: {{p50_ms: 50, p95_ms: 200, p99_ms: 250, availability_percent: 99.9,
           peak_rps: 60, pool_size: 20}}
  ledger: {{selector: {{job: ledger}}}}
  ghost: {{selector: {{job: ghost}}}}
"""


@dataclass(frozen=True)
class Backfilled:
    url: str
    end: int

    def period(self) -> DigestPeriod:
        end = datetime.fromtimestamp(self.end, UTC)
        return DigestPeriod(CHANNEL, iso_week(end), end)


@pytest.fixture(scope="module")
def backfilled() -> Iterator[Backfilled]:
    end = int(time.time()) // STEP * STEP
    with backfilled_prometheus([CHECKOUT, LEDGER], end) as url:
        yield Backfilled(url, end)


def catalog() -> Catalog:
    return parse_catalog(CATALOG)


async def build(backfilled: Backfilled, **options: object) -> ChannelDigest:
    async with PrometheusClient(backfilled.url) as client:
        return await DigestComposer(catalog(), client, **options).build(backfilled.period())  # type: ignore[arg-type]


def by_name(digest: ChannelDigest) -> dict[str, ServiceFigures]:
    return {figures.service: figures for figures in digest.services}


async def test_traffic_availability_and_latency_against_the_slo(backfilled: Backfilled) -> None:
    checkout = by_name(await build(backfilled, charts=False))["checkout"]
    traffic = checkout.throughput
    assert isinstance(traffic, Throughput)
    assert traffic.avg_rps == pytest.approx(50.0 * 0.9, rel=0.05)  # two routes, 90% of traffic
    assert traffic.peak_rps == pytest.approx(45.0 * 1.5, rel=0.05)  # the daily cycle's top
    assert traffic.target_peak_rps == 60
    availability = checkout.availability
    assert isinstance(availability, Availability)
    assert availability.error_ratio == pytest.approx(0.0005, rel=0.05)
    assert availability.burn_rate == pytest.approx(0.5, rel=0.05)
    latency = checkout.latency
    assert isinstance(latency, Latency)
    p50, p95, p99 = latency.quantiles
    assert [q.name for q in latency.quantiles] == ["p50", "p95", "p99"]
    assert p99.target_seconds == pytest.approx(0.25)
    for quantile in (p50, p95, p99):
        assert quantile.change is not None
        assert quantile.change > 0.05  # latency scaled by 1.5 this week


async def test_ranked_endpoints_downstreams_and_runtime(backfilled: Backfilled) -> None:
    figures = by_name(await build(backfilled, charts=False))
    checkout, ledger = figures["checkout"], figures["ledger"]
    assert isinstance(checkout.endpoints, Ranked)
    assert [name for name, _ in checkout.endpoints.entries] == ["/cart", "/orders/:id"]
    assert isinstance(checkout.downstreams, Ranked)
    assert [name for name, _ in checkout.downstreams.entries] == ["pricing:3100", "stock:3200"]
    loop = checkout.event_loop
    assert isinstance(loop, EventLoop)
    assert loop.max_worst_s == pytest.approx(0.7)
    assert loop.p99_typical_s == pytest.approx(0.004)
    assert checkout.gc_ratio == pytest.approx(0.02, rel=0.05)
    assert isinstance(checkout.memory, Memory)
    assert checkout.memory.heap_leak
    assert not checkout.memory.native_leak
    assert isinstance(ledger.memory, Memory)
    assert ledger.memory.native_leak
    assert not ledger.memory.heap_leak
    pool = checkout.pool
    assert isinstance(pool, Pool)
    assert (pool.peak_used, pool.size) == (19, 20)
    assert pool.hours_waiting is not None
    assert 4 <= pool.hours_waiting <= 6


async def test_missing_data_names_the_signal_and_why_it_matters(backfilled: Backfilled) -> None:
    digest = await build(backfilled, charts=False)
    figures = by_name(digest)
    lag = figures["ledger"].event_loop
    assert isinstance(lag, Missing)
    assert "eventloop_lag_p99" in lag.reason
    assert 'job="ledger"' in lag.reason
    assert "blocks every request" in lag.matters
    pool = figures["ledger"].pool
    assert isinstance(pool, Missing)
    assert "db_pool_used" in pool.reason
    assert isinstance(figures["ghost"].throughput, Missing)
    assert "no series" in figures["ghost"].throughput.reason
    text = digest_text(digest)
    ledger_part = text.split("\n\n⚪ ghost")[0].split("ledger\n")[-1]
    assert "Event loop ⚪ no data" in text
    assert "Why it matters" in ledger_part
    for line in text.splitlines():
        if line.startswith("  "):
            assert len(line.split(" ", 4)) >= 4, f"a near-empty line: {line!r}"


async def test_ops_carry_one_chart_per_service_with_data_in_the_thread(
    backfilled: Backfilled,
) -> None:
    digest = await build(backfilled)
    ops = digest_ops(digest)
    period = backfilled.period()
    assert isinstance(ops[0], Post)
    assert ops[0].op_id == period.key
    files = [op for op in ops if isinstance(op, Upload)]
    assert sorted(f.op_id for f in files) == [
        period.chart_key("checkout"),
        period.chart_key("ledger"),
    ]
    assert all(f.thread == period.key for f in files)
    assert base64.b64decode(files[0].png_base64).startswith(b"\x89PNG")


class CountingProxy:
    """Forwards to Prometheus and records the most requests it had in flight at once."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.in_flight = 0
        self.peak = 0
        self.requests = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.forward)
        return app

    async def forward(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # widen the window in which requests overlap
            async with (
                aiohttp.ClientSession() as session,
                session.request(
                    request.method,
                    self.upstream + request.path_qs,
                    data=await request.read(),
                    headers={"Content-Type": request.content_type},
                ) as answer,
            ):
                return web.Response(
                    body=await answer.read(), status=answer.status, content_type="application/json"
                )
        finally:
            self.in_flight -= 1


class CountingSource:
    def __init__(self, client: PrometheusClient) -> None:
        self.client = client
        self.callers = 0

    def caller(self, cap: int = 4) -> MetricsQuerier:
        self.callers += 1
        return self.client.caller(cap=cap)


async def test_one_caller_per_build_keeps_queries_under_its_cap(backfilled: Backfilled) -> None:
    proxy = CountingProxy(backfilled.url)
    async with serve_app(proxy.app()) as address, PrometheusClient(f"http://{address}") as client:
        source = CountingSource(client)
        composer = DigestComposer(catalog(), source, cap=2, charts=False)
        digest = await composer.build(backfilled.period())
    assert source.callers == 1
    assert proxy.requests > 20
    assert proxy.peak == 2  # the cap is reached, never passed
    assert isinstance(by_name(digest)["checkout"].throughput, Throughput)


async def test_unreachable_prometheus_is_said_and_not_posted() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    end = datetime(2026, 6, 1, 9, tzinfo=UTC)
    period = DigestPeriod(CHANNEL, "2026-W23", end)
    async with PrometheusClient(url, timeout=2) as client:
        composer = DigestComposer(catalog(), client, charts=False)
        digest = await composer.build(period)
        with pytest.raises(DigestUnavailable):
            await composer(period)
    assert all(f.unreachable for f in digest.services)
    assert "Could not connect to Prometheus" in digest_text(digest)


@pytest.fixture
def catalog_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PROMETHEUS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "services.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


async def test_cli_dry_run_prints_the_digest_and_sends_nothing(
    backfilled: Backfilled, catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_digest_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["digest", "--dry-run", "--services", str(catalog_path), "--prometheus-url", backfilled.url]
    )
    assert await run_digest_cli(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Weekly service health")
    assert f"channel {CHANNEL}" in out
    assert "🔴 checkout" in out  # the 700 ms loop stall
    assert "Slowest downstreams (p99) pricing:3100" in out
    assert "⚪ ghost: Prometheus holds no series" in out
