"""The Prometheus client against a real Prometheus scraping a sample prom-client exposition."""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.prometheus import MAX_POINTS_PER_SERIES, PrometheusClient, choose_step
from bot.sources.promql import Matcher, Selector, go_quote
from tests.promstack import (
    PrometheusStack,
    fixture_text,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
]
SAMPLE = fixture_text("sample_promclient.txt")


def exposed_value(metric: str) -> float:
    match = re.search(rf"^{metric} (\S+)$", SAMPLE, flags=re.MULTILINE)
    assert match, metric
    return float(match.group(1))


def exposed_names() -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in SAMPLE.splitlines() if line[:1] != "#"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def prom() -> AsyncIterator[PrometheusStack]:
    async with (
        serve_exposition(SAMPLE) as checkout,
        serve_exposition("other_only_metric 1\n") as other,
        run_prometheus({"checkout": [checkout], "other": [other]}) as stack,
    ):
        await stack.wait_for_series('nodejs_heap_size_used_bytes{job="checkout"}')
        await stack.wait_for_series('other_only_metric{job="other"}')
        yield stack


@pytest_asyncio.fixture(loop_scope="module")
async def client(prom: PrometheusStack) -> AsyncIterator[PrometheusClient]:
    async with PrometheusClient(prom.url) as prometheus:
        yield prometheus


async def test_instant_query_returns_the_scraped_value(client: PrometheusClient) -> None:
    samples = await client.query('nodejs_heap_size_used_bytes{job="checkout"}')
    assert len(samples) == 1
    assert samples[0].value == exposed_value("nodejs_heap_size_used_bytes")
    assert samples[0].labels["job"] == "checkout"
    assert client.queries_made == 1


async def test_instant_query_at_a_time_before_any_data_is_empty(client: PrometheusClient) -> None:
    an_hour_ago = time.time() - 3600
    assert await client.query('up{job="checkout"}', at=an_hour_ago) == []


async def test_nan_and_infinities_become_floats(client: PrometheusClient) -> None:
    nan = await client.query("vector(0/0)")
    pos = await client.query("vector(+Inf)")
    neg = await client.query("-Inf")  # a scalar result
    assert math.isnan(nan[0].value)
    assert pos[0].value == math.inf
    assert neg[0].value == -math.inf
    assert neg[0].labels == {}


async def test_a_range_selector_in_an_instant_query_is_explained(client: PrometheusClient) -> None:
    with pytest.raises(MetricsUnavailable, match=r"returned a matrix.*drop the \[range\]"):
        await client.query('up{job="checkout"}[1m]')


async def test_bad_query_passes_prometheus_error_through(client: PrometheusClient) -> None:
    with pytest.raises(MetricsUnavailable, match=r"bad_data: .*parse error") as caught:
        await client.query("sum(rate(up[5m])")
    assert "Prometheus rejected the query" in str(caught.value)
    assert client.requests_sent == 1  # a 400 is not retried


async def test_range_step_is_capped_so_series_stay_small(client: PrometheusClient) -> None:
    end = time.time()
    start = end - 86_400
    series = await client.query_range("vector(1)", start=start, end=end, step=1)
    points = series[0].points
    step = choose_step(start, end, 1)
    assert step == 79  # ceil(86400 / 1100)
    assert len(points) == 86_400 // step + 1 <= MAX_POINTS_PER_SERIES + 1
    assert points[1][0] - points[0][0] == step


async def test_range_keeps_a_coarser_requested_step(client: PrometheusClient) -> None:
    end = time.time()
    series = await client.query_range("vector(2)", start=end - 600, end=end, step=60)
    assert [value for _, value in series[0].points] == [2.0] * 11
    assert series[0].points[1][0] - series[0].points[0][0] == 60


async def test_range_query_returns_scraped_points(client: PrometheusClient) -> None:
    end = time.time()
    series = await client.query_range(
        'process_resident_memory_bytes{job="checkout"}', start=end - 30, end=end
    )
    assert len(series) == 1
    assert series[0].points
    assert {value for _, value in series[0].points} == {
        exposed_value("process_resident_memory_bytes")
    }


async def test_series_names_are_those_of_the_selected_job(client: PrometheusClient) -> None:
    names = await client.series_names({"job": "checkout"})
    assert exposed_names() <= names
    assert "other_only_metric" not in names
    assert await client.series_names({"job": "no-such-job"}) == set()


async def test_caller_view_queries_through_the_same_client(client: PrometheusClient) -> None:
    view: MetricsQuerier = client.caller(cap=2)  # both satisfy the protocol (checked by mypy)
    whole: MetricsQuerier = client
    assert whole is client
    samples = await view.query('up{job="checkout"}')
    names = await view.series_names({"job": "other"})
    assert [s.value for s in samples] == [1.0]
    assert "other_only_metric" in names
    assert client.queries_made == 2


async def test_hostile_label_values_reach_prometheus_intact(client: PrometheusClient) -> None:
    hostile = 'a"}\\\n\x00é😀\u2028'
    assert await client.query(str(Selector("up", (Matcher.eq("job", hostile),)))) == []
    echoed = await client.query(f'label_replace(vector(1), "v", {go_quote(hostile)}, "", "")')
    assert echoed[0].labels["v"] == hostile


async def test_fractional_timeouts_are_accepted_by_prometheus(prom: PrometheusStack) -> None:
    async with PrometheusClient(prom.url, timeout=2.5) as client:
        end = time.time()
        assert await client.query('up{job="checkout"}')
        assert await client.query_range('up{job="checkout"}', start=end - 10, end=end)
