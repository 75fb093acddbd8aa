"""Convention detection and signal expressions from metric names, overrides and the name cache."""

from __future__ import annotations

import re

import promql_parser
import pytest

from bot.sources.base import InstantSample, MetricsUnavailable, RangeSeries
from bot.sources.conventions import (
    OVERRIDE,
    UNKNOWN,
    ConventionDetector,
    detect_convention,
    resolve_signals,
)
from bot.sources.signals import Signal
from tests.promstack import fixture_text

RUNTIME = {
    Signal.EVENTLOOP_LAG_P99,
    Signal.EVENTLOOP_LAG_MAX,
    Signal.CPU_CORES,
    Signal.HEAP_USED,
    Signal.HEAP_TOTAL,
    Signal.RSS,
    Signal.GC_TIME_RATIO,
    Signal.GC_PAUSE_P99,
}
HTTP = {
    Signal.REQUEST_RATE,
    Signal.ERROR_RATIO,
    Signal.LATENCY_P50,
    Signal.LATENCY_P95,
    Signal.LATENCY_P99,
}
DB = {
    Signal.DB_POOL_USED,
    Signal.DB_POOL_MAX,
    Signal.DB_POOL_PENDING,
    Signal.DB_OP_P99,
    Signal.DB_OP_RATE,
}
DOWNSTREAM = {Signal.DOWNSTREAM_P99, Signal.DOWNSTREAM_RATE, Signal.DOWNSTREAM_ERROR_RATIO}


def names_in(fixture: str) -> frozenset[str]:
    lines = fixture_text(fixture).splitlines()
    return frozenset(re.split(r"[{ ]", line)[0] for line in lines if line and line[0] != "#")


@pytest.mark.parametrize(
    ("fixture", "convention", "expected"),
    [
        (
            "promclient.txt",
            "prom-client",
            RUNTIME | HTTP | DB | DOWNSTREAM | {Signal.EXTERNAL_MEMORY, Signal.ACTIVE_HANDLES},
        ),
        ("otel.txt", "otel", RUNTIME | HTTP | DB | DOWNSTREAM | {Signal.EVENTLOOP_UTILIZATION}),
        (
            "sample_promclient.txt",
            "prom-client",
            RUNTIME | HTTP | {Signal.EXTERNAL_MEMORY, Signal.ACTIVE_HANDLES},
        ),
        (
            "sample_otel.txt",
            "otel",
            RUNTIME | HTTP | DB | DOWNSTREAM | {Signal.EVENTLOOP_UTILIZATION},
        ),
        (
            "sample_otel_suffixed.txt",
            "otel-suffixed",
            RUNTIME | HTTP | DB | DOWNSTREAM | {Signal.EVENTLOOP_UTILIZATION},
        ),
        ("sample_otel_legacy.txt", "otel", HTTP | DOWNSTREAM),
    ],
)
def test_each_convention_is_detected_with_its_signals(
    fixture: str, convention: str, expected: set[Signal]
) -> None:
    names = names_in(fixture)
    signals = resolve_signals(names, {"job": "orders-api"})
    assert detect_convention(names) == convention
    assert signals.convention == convention
    assert signals.available == expected
    for signal in expected:
        expr = signals.expr(signal)
        assert expr is not None
        assert 'job="orders-api"' in expr
        promql_parser.parse(expr)
        metrics = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", expr))
        assert metrics <= names, f"{signal} reads {metrics - names}"
    assert all(signals.origins[s] == UNKNOWN for s in set(Signal) - expected)


def test_prom_client_defaults_under_a_prefix_with_express_prom_bundle_paths() -> None:
    names = names_in("sample_promclient_prefixed_bundle.txt")
    signals = resolve_signals(names, {"job": "shop"})
    assert (signals.convention, signals.prefix) == ("prom-client", "shop_")
    assert signals.available == RUNTIME | HTTP | {Signal.EXTERNAL_MEMORY, Signal.ACTIVE_HANDLES}
    lag = signals.expr(Signal.EVENTLOOP_LAG_P99) or ""
    assert "shop_nodejs_eventloop_lag_p99_seconds{" in lag
    assert "(http_request_duration_seconds_bucket{" in (signals.expr(Signal.LATENCY_P99) or "")


@pytest.mark.parametrize("prefix", ["myapp_", "checkout:", "x"])
def test_any_prefix_on_any_convention_is_found(prefix: str) -> None:
    for fixture, convention in [("promclient.txt", "prom-client"), ("otel.txt", "otel")]:
        plain = names_in(fixture)
        names = frozenset(prefix + name for name in plain)
        signals = resolve_signals(names, {"job": "a"})
        assert (signals.convention, signals.prefix) == (convention, prefix)
        assert signals.available == resolve_signals(plain, {"job": "a"}).available
        for signal in signals.available:
            promql_parser.parse(signals.expr(signal) or "")


def test_an_unprefixed_service_reports_no_prefix() -> None:
    signals = resolve_signals(names_in("promclient.txt"), {"job": "a"})
    assert signals.prefix == ""


def test_nothing_known_is_unknown() -> None:
    signals = resolve_signals({"up", "my_app_thing"}, {"job": "x"})
    assert signals.convention == UNKNOWN
    assert signals.available == frozenset()


def test_expressions_use_the_convention_units_and_labels() -> None:
    promclient = resolve_signals(names_in("promclient.txt"), {"job": "a"}, window="2m")
    assert promclient.expr(Signal.GC_TIME_RATIO) == (
        'max (sum by (job, instance) (rate(nodejs_gc_duration_seconds_sum{job="a"}[2m])))'
    )
    assert 'state="used"' in (promclient.expr(Signal.DB_POOL_USED) or "")
    assert 'status_code=~"5..|0"' in (promclient.expr(Signal.DOWNSTREAM_ERROR_RATIO) or "")
    legacy = resolve_signals(names_in("sample_otel_legacy.txt"), {"job": "a"})
    assert (legacy.expr(Signal.LATENCY_P99) or "").endswith(" * 0.001")
    assert "by (le, net_peer_name, net_peer_port)" in (legacy.expr(Signal.DOWNSTREAM_P99) or "")
    otel = resolve_signals(names_in("otel.txt"), {"job": "a"})
    assert 'db_client_connection_state="used"' in (otel.expr(Signal.DB_POOL_USED) or "")
    assert "by (le, server_address, server_port)" in (otel.expr(Signal.DOWNSTREAM_P99) or "")


def test_overrides_win_and_bare_names_follow_the_signal_kind() -> None:
    overrides = {
        Signal.REQUEST_RATE: "orders_total",
        Signal.LATENCY_P99: "orders_latency_seconds",
        Signal.HEAP_USED: "app_heap_bytes",
        Signal.DOWNSTREAM_P99: "calls_seconds_bucket",
        Signal.ERROR_RATIO: 'sum(rate(orders_total{$selector, ok="false"}[$window]))',
    }
    signals = resolve_signals(names_in("otel.txt"), {"job": "a"}, overrides, window=90)
    assert signals.expr(Signal.REQUEST_RATE) == 'sum (rate(orders_total{job="a"}[1m30s]))'
    assert signals.expr(Signal.LATENCY_P99) == (
        "histogram_quantile(0.99, sum by (le) "
        '(rate(orders_latency_seconds_bucket{job="a"}[1m30s])))'
    )
    assert signals.expr(Signal.HEAP_USED) == (
        'max (sum by (job, instance) (app_heap_bytes{job="a"}))'
    )
    assert "by (le, server_address, server_port)" in (signals.expr(Signal.DOWNSTREAM_P99) or "")
    assert signals.expr(Signal.ERROR_RATIO) == (
        'sum(rate(orders_total{job="a", ok="false"}[1m30s]))'
    )
    assert {signals.origins[s] for s in overrides} == {OVERRIDE}
    assert signals.origins[Signal.RSS] == "otel"


class CountingQuerier:
    """Answers `series_names` from a fixed table and counts the calls."""

    def __init__(self, names: dict[str, frozenset[str]]) -> None:
        self.names = names
        self.calls = 0
        self.fail = False

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        raise AssertionError("detection must only ask for names")

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        raise AssertionError("detection must only ask for names")

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        self.calls += 1
        if self.fail:
            raise MetricsUnavailable("Prometheus at 127.0.0.1:9 did not answer")
        return set(self.names.get(selector["job"], frozenset()))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_names_are_cached_until_the_ttl_passes() -> None:
    querier = CountingQuerier({"a": names_in("otel.txt")})
    clock = FakeClock()
    detector = ConventionDetector(querier, ttl=300, clock=clock)
    first = await detector.signals_for({"job": "a"})
    second = await detector.signals_for({"job": "a"}, window="5m")
    assert querier.calls == 1
    assert first.convention == second.convention == "otel"
    assert second.window == "5m"
    clock.now += 301
    await detector.signals_for({"job": "a"})
    assert querier.calls == 2


async def test_cache_is_bounded_least_recently_used_first() -> None:
    querier = CountingQuerier({job: frozenset({"up"}) for job in "abc"})
    detector = ConventionDetector(querier, max_entries=2, clock=FakeClock())
    for job in ["a", "b", "a", "c"]:
        await detector.metric_names({"job": job})
    assert detector.cached_selectors == 2
    assert querier.calls == 3
    await detector.metric_names({"job": "a"})  # kept: used more recently than b
    assert querier.calls == 3
    await detector.metric_names({"job": "b"})  # evicted
    assert querier.calls == 4


async def test_empty_answers_and_failures_are_not_cached() -> None:
    querier = CountingQuerier({})
    detector = ConventionDetector(querier, clock=FakeClock())
    assert (await detector.signals_for({"job": "new"})).convention == UNKNOWN
    await detector.metric_names({"job": "new"})
    assert querier.calls == 2
    querier.fail = True
    with pytest.raises(MetricsUnavailable):
        await detector.metric_names({"job": "other"})
    assert detector.cached_selectors == 0


async def test_a_lookup_can_go_through_another_querier_and_still_be_cached() -> None:
    own = CountingQuerier({"a": names_in("otel.txt")})
    capped = CountingQuerier({"a": names_in("promclient.txt")})
    detector = ConventionDetector(own, clock=FakeClock())
    first = await detector.signals_for({"job": "a"}, via=capped)
    again = await detector.signals_for({"job": "a"})
    assert (own.calls, capped.calls) == (0, 1)
    assert first.convention == again.convention == "prom-client"


async def test_a_detector_without_a_querier_needs_one_per_lookup() -> None:
    detector = ConventionDetector()
    with pytest.raises(ValueError, match="no querier"):
        await detector.metric_names({"job": "a"})
