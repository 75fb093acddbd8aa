"""The Prometheus-derived APM backend beyond the shared contract: OpenTelemetry families, the
older millisecond histograms, which families it asks about, and how failures read."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from bot.sources.apm import ApmTarget, ApmUnavailable
from bot.sources.apm.prometheus_apm import PrometheusApm, candidate_families
from bot.sources.base import InstantSample, MetricsUnavailable, QueryRejected, RangeSeries
from bot.sources.prometheus import PrometheusClient
from tests.promstack import (
    PrometheusStack,
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)

from .oracle import quantiles

needs_prometheus = pytest.mark.skipif(
    not prometheus_available(), reason="needs /usr/bin/prometheus"
)


class RecordingQuerier:
    """Answers instant queries with `answer` (or raises it) and keeps every expression."""

    def __init__(self, answer: list[InstantSample] | Exception) -> None:
        self.answer = answer
        self.exprs: list[str] = []

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        self.exprs.append(expr)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        raise AssertionError("the APM backend only sends instant queries")

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        raise AssertionError("the APM backend does not look names up itself")


@pytest.fixture(scope="module")
def otel_texts() -> dict[str, str]:
    return {"otel": fixture_text("otel.txt"), "legacy": fixture_text("sample_otel_legacy.txt")}


@pytest.fixture
async def prometheus(otel_texts: dict[str, str]) -> AsyncIterator[PrometheusStack]:
    otel, legacy = growing_counters(otel_texts["otel"]), growing_counters(otel_texts["legacy"])
    async with (
        serve_exposition(otel) as otel_target,
        serve_exposition(legacy) as legacy_target,
        run_prometheus({"otel": [otel_target], "legacy": [legacy_target]}) as prom,
    ):
        await prom.wait_for_series('http_server_duration_count{job="legacy"}')
        await prom.wait_for_series('http_client_request_duration_count{job="otel"}')
        for job in ("otel", "legacy"):  # a few scrapes, so rates exist
            await prom.wait_for_scrapes(job, 4)
        yield prom


@needs_prometheus
async def test_otel_endpoints_and_peers_match_the_histograms(
    prometheus: PrometheusStack, otel_texts: dict[str, str]
) -> None:
    text = otel_texts["otel"]
    async with PrometheusClient(prometheus.url) as client:
        backend = PrometheusApm(client.caller())
        endpoints = await backend.slowest_endpoints(ApmTarget(service="otel"), 60, limit=10)
        peers = await backend.slowest_downstreams(ApmTarget(service="otel"), 60)
        assert client.queries_made == 2  # one query per question
    p99 = quantiles(text, "http_server_request_duration", ("http_route",), 0.99)
    p95 = quantiles(text, "http_server_request_duration", ("http_route",), 0.95)
    assert [e.name for e in endpoints] == sorted(p99, key=lambda name: -p99[name])
    for endpoint in endpoints:
        assert endpoint.p99 == pytest.approx(p99[endpoint.name], rel=1e-6)
        assert endpoint.p95 == pytest.approx(p95[endpoint.name], rel=1e-6)
        assert endpoint.rate > 0
        assert endpoint.error_rate == 0.0
    keys = ("server_address", "server_port")
    peer_p99 = quantiles(text, "http_client_request_duration", keys, 0.99)
    assert [p.name for p in peers] == list(peer_p99)
    assert [p.p99 for p in peers] == pytest.approx(list(peer_p99.values()), rel=1e-6)


@needs_prometheus
async def test_older_millisecond_histograms_come_back_in_seconds(
    prometheus: PrometheusStack, otel_texts: dict[str, str]
) -> None:
    async with PrometheusClient(prometheus.url) as client:
        target = ApmTarget(service="legacy", selector={"job": "legacy"})
        endpoints = await PrometheusApm(client.caller()).slowest_endpoints(target, 60)
    p99_ms = quantiles(otel_texts["legacy"], "http_server_duration", ("http_route",), 0.99)
    assert {e.name: e.p99 for e in endpoints} == pytest.approx(
        {name: value / 1000 for name, value in p99_ms.items()}, rel=1e-6
    )


async def test_known_names_narrow_the_query_to_the_families_that_exist() -> None:
    querier = RecordingQuerier([])
    names = frozenset({"http_request_duration_seconds_bucket", "nodejs_heap_size_used_bytes"})
    backend = PrometheusApm(querier, metric_names=names)
    assert await backend.slowest_endpoints(ApmTarget(service="api"), 600) == []
    assert await backend.slowest_downstreams(ApmTarget(service="api"), 600) == []
    assert querier.exprs[0].count("label_replace(") == 4  # p95, p99, rate, errors
    assert 'http_request_duration_seconds_bucket{job="api"}[10m]' in querier.exprs[0]
    assert querier.exprs[1:] == []  # no client histogram: nothing to ask


def test_the_detected_convention_comes_first() -> None:
    suffixed = frozenset(
        {
            "http_client_request_duration_seconds_bucket",
            "v8js_memory_heap_used_bytes",
            "nodejs_eventloop_delay_p99_seconds",
        }
    )
    chosen = candidate_families(server=False, names=suffixed)
    assert chosen[0].keys == ("server_address", "server_port")  # OpenTelemetry's, not prom-client's
    assert len(candidate_families(server=True, names=None)) == 5


async def test_results_name_the_first_family_with_series_and_skip_idle_routes() -> None:
    def sample(tag: str, route: str, value: float) -> InstantSample:
        return InstantSample({"__apm__": tag, "route": route, "http_route": route}, value)

    querier = RecordingQuerier(
        [
            sample("1/p99", "/from-second-family", 9.0),
            sample("0/p99", "/busy", 0.25),
            sample("0/rate", "/busy", 4.0),
            sample("0/errors", "/busy", math.nan),
            sample("0/p99", "/idle", math.nan),
            sample("0/rate", "/idle", 0.0),
        ]
    )
    got = await PrometheusApm(querier).slowest_endpoints(ApmTarget(service="api"), 300)
    assert [(e.name, e.p99, e.rate, e.error_rate) for e in got] == [("/busy", 0.25, 4.0, None)]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (MetricsUnavailable("Could not connect to Prometheus at h:9090: refused"), "h:9090"),
        (QueryRejected("Prometheus rejected the query: bad_data: parse\nerror"), "parse error."),
        (MetricsUnavailable("the query returned a matrix"), "Prometheus: the query"),
    ],
)
async def test_failures_become_one_sentence_naming_prometheus(
    failure: MetricsUnavailable, expected: str
) -> None:
    backend = PrometheusApm(RecordingQuerier(failure))
    with pytest.raises(ApmUnavailable) as caught:
        await backend.slowest_downstreams(ApmTarget(service="api"), 300)
    message = str(caught.value)
    assert expected in message
    assert message.endswith(".")
    assert "\n" not in message
    assert "Prometheus" in message
    assert caught.value.__suppress_context__


async def test_express_prom_bundle_routes_are_named_by_their_path_label() -> None:
    querier = RecordingQuerier(
        [
            InstantSample({"__apm__": "0/p99", "path": "/api/quote"}, 1.5),
            InstantSample({"__apm__": "0/rate", "path": "/api/quote"}, 3.0),
        ]
    )
    names = frozenset({"http_request_duration_seconds_bucket", "shop_process_cpu_seconds_total"})
    got = await PrometheusApm(querier, metric_names=names).slowest_endpoints(
        ApmTarget(service="api"), 300
    )
    assert [(e.name, e.p99) for e in got] == [("/api/quote", 1.5)]
    assert "by (le, route, path)" in querier.exprs[0]
