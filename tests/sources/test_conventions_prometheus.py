"""Detection and every produced expression against a real Prometheus scraping each convention."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.sources.conventions import ConventionDetector
from bot.sources.prometheus import PrometheusClient
from bot.sources.signals import Signal
from tests.promstack import (
    PrometheusStack,
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
]
JOBS = {
    "promclient": ("promclient.txt", "prom-client"),
    "otel": ("otel.txt", "otel"),
    "otel-suffixed": ("sample_otel_suffixed.txt", "otel-suffixed"),
    "otel-legacy": ("sample_otel_legacy.txt", "otel"),
}


GROWTH_PER_SECOND = 0.1
WINDOW = "5s"  # Prometheus scales rates down when samples cover only part of the window


def growing(fixture: str) -> Callable[[], str]:
    return growing_counters(fixture_text(fixture), GROWTH_PER_SECOND)


def exposed_sum(fixture: str, metric: str, where: str = "") -> float:
    pattern = rf"^{metric}(?:\{{([^}}]*)\}})? (\S+)$"
    found = re.findall(pattern, fixture_text(fixture), flags=re.MULTILINE)
    values = [float(value) for labels, value in found if where in labels]
    assert values, metric
    return sum(values)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def prom() -> AsyncIterator[PrometheusStack]:
    async with (
        serve_exposition(growing(JOBS["promclient"][0])) as promclient,
        serve_exposition(growing(JOBS["otel"][0])) as otel,
        serve_exposition(growing(JOBS["otel-suffixed"][0])) as suffixed,
        serve_exposition(growing(JOBS["otel-legacy"][0])) as legacy,
        run_prometheus(
            {
                "promclient": [promclient],
                "otel": [otel],
                "otel-suffixed": [suffixed],
                "otel-legacy": [legacy],
            }
        ) as stack,
    ):
        for job in JOBS:  # a full rate window of scrapes, so rates are not extrapolated
            await stack.wait_for_series(f'count_over_time(up{{job="{job}"}}[{WINDOW}]) >= 5')
        yield stack


@pytest_asyncio.fixture(loop_scope="module")
async def client(prom: PrometheusStack) -> AsyncIterator[PrometheusClient]:
    async with PrometheusClient(prom.url) as prometheus:
        yield prometheus


@pytest.mark.parametrize("job", list(JOBS))
async def test_detection_and_expressions_work_against_prometheus(
    client: PrometheusClient, job: str
) -> None:
    detector = ConventionDetector(client.caller(cap=4))
    signals = await detector.signals_for({"job": job}, window="1m")
    assert signals.convention == JOBS[job][1]
    assert signals.available
    for signal in signals.available:
        expr = signals.expr(signal)
        assert expr is not None
        await client.query(expr)  # raises MetricsUnavailable with Prometheus's text if invalid


@pytest.mark.parametrize(
    ("job", "signal", "metric", "where"),
    [
        ("promclient", Signal.HEAP_USED, "nodejs_heap_size_used_bytes", ""),
        ("promclient", Signal.DB_POOL_MAX, "db_client_connection_max", ""),
        ("promclient", Signal.DB_POOL_USED, "db_client_connection_count", 'state="used"'),
        ("promclient", Signal.EVENTLOOP_LAG_P99, "nodejs_eventloop_lag_p99_seconds", ""),
        ("otel", Signal.HEAP_USED, "v8js_memory_heap_used", ""),
        ("otel", Signal.HEAP_TOTAL, "v8js_memory_heap_space_size", ""),
        ("otel", Signal.RSS, "process_memory_usage", ""),
        ("otel", Signal.DB_POOL_USED, "db_client_connection_count", 'state="used"'),
        ("otel", Signal.EVENTLOOP_UTILIZATION, "nodejs_eventloop_utilization", ""),
        ("otel-suffixed", Signal.HEAP_USED, "v8js_memory_heap_used_bytes", ""),
        ("otel-suffixed", Signal.EVENTLOOP_LAG_MAX, "nodejs_eventloop_delay_max_seconds", ""),
    ],
)
async def test_gauge_signals_read_the_exposed_values(
    client: PrometheusClient, job: str, signal: Signal, metric: str, where: str
) -> None:
    signals = await ConventionDetector(client).signals_for({"job": job})
    expr = signals.expr(signal)
    assert expr is not None
    samples = await client.query(expr)
    assert len(samples) == 1
    assert samples[0].value == pytest.approx(exposed_sum(JOBS[job][0], metric, where))


async def one_value(client: PrometheusClient, expr: str | None) -> float:
    assert expr is not None
    samples = await client.query(expr)
    assert len(samples) == 1, samples
    return samples[0].value


async def test_rate_signals_follow_the_counters(client: PrometheusClient) -> None:
    fixture = JOBS["otel-suffixed"][0]
    signals = await ConventionDetector(client).signals_for({"job": "otel-suffixed"}, window=WINDOW)
    requests = exposed_sum(fixture, "http_server_request_duration_seconds_count")
    failed = exposed_sum(fixture, "http_server_request_duration_seconds_count", 'code="500"')
    cpu = exposed_sum(fixture, "process_cpu_time_seconds_total")
    gc = exposed_sum(fixture, "v8js_gc_duration_seconds_sum")
    expected = {
        Signal.REQUEST_RATE: requests * GROWTH_PER_SECOND,
        Signal.ERROR_RATIO: failed / requests,
        Signal.CPU_CORES: cpu * GROWTH_PER_SECOND,
        Signal.GC_TIME_RATIO: gc * GROWTH_PER_SECOND,
    }
    observed = {signal: await one_value(client, signals.expr(signal)) for signal in expected}
    assert observed == {
        signal: pytest.approx(value, rel=0.05) for signal, value in expected.items()
    }


async def test_latency_quantile_matches_the_exposed_histogram(client: PrometheusClient) -> None:
    signals = await ConventionDetector(client).signals_for({"job": "otel-legacy"})
    static = (
        'histogram_quantile(0.99, sum by (le) (http_server_duration_bucket{job="otel-legacy"}))'
    )
    expected_ms = await one_value(client, static)
    assert await one_value(client, signals.expr(Signal.LATENCY_P99)) == pytest.approx(
        expected_ms / 1000, rel=0.01
    )


async def test_downstream_errors_are_split_per_downstream(client: PrometheusClient) -> None:
    signals = await ConventionDetector(client).signals_for({"job": "otel-suffixed"})
    expr = signals.expr(Signal.DOWNSTREAM_ERROR_RATIO)
    assert expr is not None
    ratios = {s.labels["server_address"]: s.value for s in await client.query(expr)}
    assert ratios == {"inventory.internal": 0.0, "payments.internal": pytest.approx(1.0)}
