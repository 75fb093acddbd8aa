from __future__ import annotations

import pytest

from bot.sources.base import InstantSample, MetricsUnavailable, QueryRejected, RangeSeries
from bot.sources.promql import Matcher
from bot.sources.signals import Signal
from bot.triage.prom_source import PrometheusSignalSource, batched, split
from bot.triage.window import parse_window
from tests.promstack import fixture_text, prometheus_available, run_prometheus, serve_exposition

WINDOW = parse_window("10m", end=1_800_000_000.0)
MATCHERS = (Matcher.eq("service", "checkout"),)


class FakeQuerier:
    def __init__(self, reject: str | None = None, down: bool = False) -> None:
        self.exprs: list[str] = []
        self._reject = reject
        self._down = down

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        raise AssertionError("range queries only")

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        self.exprs.append(expr)
        if self._down:
            raise MetricsUnavailable("Could not connect to Prometheus at 127.0.0.1:9: refused")
        if self._reject and self._reject in expr:
            raise QueryRejected("parse error")
        if " or " in expr:
            return [
                RangeSeries({"__signal__": "rss", "job": "a"}, [(start, 1.0)]),
                RangeSeries({"__signal__": "heap_used", "job": "a"}, [(start, 2.0)]),
            ]
        return [RangeSeries({"__name__": "m"}, [(start, 3.0)])]

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        return set()


EXPRESSIONS = {
    Signal.RSS: "max(rss{$selector})",
    Signal.HEAP_USED: "max(heap{$selector})",
    Signal.CPU_CORES: None,
}


async def test_a_fetch_is_one_batched_query_split_back_by_signal() -> None:
    querier = FakeQuerier()
    source = PrometheusSignalSource(querier, EXPRESSIONS, MATCHERS)
    fetched = await source.fetch({Signal.RSS, Signal.HEAP_USED, Signal.CPU_CORES}, WINDOW)
    assert len(querier.exprs) == 1
    assert 'label_replace((max(rss{service="checkout"})), "__signal__", "rss"' in querier.exprs[0]
    assert fetched.get("rss")[0].points[0][1] == 1.0
    assert fetched.get("heap_used")[0].labels == {"job": "a"}
    assert "cpu_cores" in fetched.missing
    assert fetched.queries["rss"] == 'max(rss{service="checkout"})'


async def test_a_rejected_batch_is_retried_one_by_one() -> None:
    querier = FakeQuerier(reject="bad(")
    source = PrometheusSignalSource(querier, EXPRESSIONS, MATCHERS)
    fetched = await source.fetch({Signal.RSS}, WINDOW, {"custom:q": "bad(x{$selector})"})
    assert len(querier.exprs) == 3
    assert fetched.get("rss")[0].points[0][1] == 3.0
    assert "parse error" in fetched.failures["custom:q"].reason
    assert not fetched.failures["custom:q"].unreachable


async def test_an_unreachable_backend_fails_the_batch_without_retries() -> None:
    querier = FakeQuerier(down=True)
    source = PrometheusSignalSource(querier, EXPRESSIONS, MATCHERS)
    fetched = await source.fetch({Signal.RSS, Signal.HEAP_USED}, WINDOW)
    assert len(querier.exprs) == 1
    assert all(failure.unreachable for failure in fetched.failures.values())
    assert set(fetched.failures) == {"rss", "heap_used"}


def test_split_keeps_every_key() -> None:
    found = [RangeSeries({"__signal__": "a"}, [(1.0, 1.0)])]
    assert split(found, {"a": "x", "b": "y"}) == {"a": [RangeSeries({}, [(1.0, 1.0)])], "b": []}
    assert batched({"only": "up"}) == "up"


@pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")
async def test_batched_query_against_real_prometheus() -> None:
    from bot.sources.prometheus import PrometheusClient
    from bot.triage.window import Window

    exposition = fixture_text("promclient.txt")
    async with serve_exposition(exposition) as target, run_prometheus({"orders": [target]}) as prom:
        await prom.wait_for_series('nodejs_heap_size_used_bytes{service="orders-api"}')
        async with PrometheusClient(prom.url) as client:
            expressions = {
                Signal.HEAP_USED: "max(nodejs_heap_size_used_bytes{$selector})",
                Signal.ACTIVE_HANDLES: "max(nodejs_active_handles_total{$selector})",
            }
            source = PrometheusSignalSource(
                client.caller(cap=4), expressions, (Matcher.eq("service", "orders-api"),)
            )
            import time

            window = Window(text="1m", seconds=60, end=time.time())
            fetched = await source.fetch(set(expressions), window)
            assert client.queries_made == 1
    assert fetched.get("heap_used")[0].points[-1][1] > 1_000_000
    assert fetched.get("active_handles")[0].points[-1][1] >= 1


async def test_lag_gauges_are_read_as_the_peak_of_each_step() -> None:
    querier = FakeQuerier()
    expressions = {Signal.EVENTLOOP_LAG_P99: "max(lag_p99{$selector})"}
    source = PrometheusSignalSource(querier, expressions, MATCHERS)
    await source.fetch({Signal.EVENTLOOP_LAG_P99}, WINDOW)
    assert querier.exprs == ['max_over_time((max(lag_p99{service="checkout"}))[15s:1s])']
