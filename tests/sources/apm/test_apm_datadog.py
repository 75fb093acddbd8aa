"""Datadog specifics the contract suite does not pin down: units, query shape, tag safety."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm import ApmTarget, ApmUnavailable
from bot.sources.apm.datadog import DatadogBackend
from tests.fakes.datadog import FakeDatadog, split_queries

NOW = 1_700_000_000
TARGET = ApmTarget(service="checkout", env="prod")
ENDPOINTS = [
    EndpointStat(name="get_/cart", p95=0.35, p99=1.2, rate=22.0, error_rate=0.25),
    EndpointStat(name="post_/checkout", p95=1.8, p99=4.25, rate=3.5, error_rate=0.0),
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDatadog]:
    server = FakeDatadog()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def backend_for(fake: FakeDatadog, session: aiohttp.ClientSession) -> DatadogBackend:
    return DatadogBackend(
        session=session,
        api_key=SecretStr(fake.api_key),
        application_key=SecretStr(fake.application_key),
        base_url=fake.base_url,
        timeout_seconds=2.0,
        clock=lambda: NOW + 0.7,
    )


async def test_latency_reported_in_milliseconds_becomes_seconds(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeDatadog(latency_unit="millisecond")
    await fake.start()
    try:
        fake.seed_endpoints("checkout", "prod", ENDPOINTS)
        got = await backend_for(fake, session).slowest_endpoints(TARGET, 600)
    finally:
        await fake.stop()
    assert [s.name for s in got] == ["post_/checkout", "get_/cart"]
    assert [s.p95 for s in got] == pytest.approx([1.8, 0.35])
    assert [s.p99 for s in got] == pytest.approx([4.25, 1.2])


async def test_one_request_carries_every_endpoint_query(
    fake: FakeDatadog, session: aiohttp.ClientSession
) -> None:
    fake.seed_endpoints("checkout", "prod", ENDPOINTS)
    got = await backend_for(fake, session).slowest_endpoints(TARGET, 600)
    assert got[1].error_rate == pytest.approx(0.25)
    assert got[0].error_rate == 0.0  # no errors series at all means no errors, not unknown
    [seen] = fake.requests
    assert seen.headers["DD-API-KEY"] == fake.api_key
    assert seen.headers["DD-APPLICATION-KEY"] == fake.application_key
    assert (int(seen.query["from"]), int(seen.query["to"])) == (NOW - 600, NOW)
    assert split_queries(seen.query["query"]) == [
        "p95:trace.web.request{service:checkout,env:prod} by {resource_name}",
        "p99:trace.web.request{service:checkout,env:prod} by {resource_name}",
        "sum:trace.web.request.hits{service:checkout,env:prod} by {resource_name}.as_rate()",
        "sum:trace.web.request.errors{service:checkout,env:prod} by {resource_name}.as_rate()",
    ]


async def test_downstreams_are_found_under_either_client_service_name(
    fake: FakeDatadog, session: aiohttp.ClientSession
) -> None:
    fake.seed_downstreams(
        "checkout", "prod", [DownstreamStat(name="a.internal", p99=0.2, rate=1.0, error_rate=0.0)]
    )
    fake.seed_downstreams(
        "checkout",
        "prod",
        [DownstreamStat(name="b.internal", p99=0.9, rate=2.0, error_rate=0.5)],
        client_service_suffix="",
    )
    got = await backend_for(fake, session).slowest_downstreams(TARGET, 600)
    assert [(s.name, s.error_rate) for s in got] == [("b.internal", 0.5), ("a.internal", 0.0)]


async def test_env_is_left_out_when_the_target_has_none(
    fake: FakeDatadog, session: aiohttp.ClientSession
) -> None:
    fake.seed_endpoints("checkout", "prod", ENDPOINTS)
    got = await backend_for(fake, session).slowest_endpoints(ApmTarget(service="checkout"), 600)
    assert len(got) == 2
    assert "env:" not in fake.requests[0].query["query"]


@pytest.mark.parametrize("service", ["checkout,env:staging", "a}b", "x OR y", "", "9lives"])
async def test_tag_values_that_could_rewrite_the_query_are_refused(
    fake: FakeDatadog, session: aiohttp.ClientSession, service: str
) -> None:
    with pytest.raises(ApmUnavailable, match="not a valid Datadog tag value"):
        await backend_for(fake, session).slowest_endpoints(ApmTarget(service=service), 600)
    assert fake.requests == []


async def test_a_refused_query_quotes_datadog_without_the_keys(
    fake: FakeDatadog, session: aiohttp.ClientSession
) -> None:
    fake.error_body = {"errors": [f"Bad query for key {fake.api_key}\nat position 3."]}
    with pytest.raises(ApmUnavailable) as caught:
        await backend_for(fake, session).slowest_endpoints(TARGET, 600)
    message = str(caught.value)
    assert message == (
        "Datadog refused the query (HTTP 400): Bad query for key [redacted] at position 3."
    )


async def test_an_error_status_in_a_200_answer_is_reported(
    fake: FakeDatadog, session: aiohttp.ClientSession
) -> None:
    fake.error_body, fake.error_status = {"status": "error", "error": "No such metric."}, 200
    with pytest.raises(ApmUnavailable) as caught:
        await backend_for(fake, session).slowest_endpoints(TARGET, 600)
    assert str(caught.value) == "Datadog could not run the query: No such metric."
