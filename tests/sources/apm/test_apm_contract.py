"""The behaviour every APM backend owes the triage engine, run over the whole registry."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Sequence

import aiohttp
import pytest

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm import BACKENDS, ApmBackendOptions, ApmUnavailable
from tests.fakes.server import Failure

from .harnesses import HARNESSES, Harness

ENDPOINTS = [
    EndpointStat(name="get_/health", p95=0.004, p99=0.009, rate=12.0, error_rate=0.0),
    EndpointStat(name="post_/checkout", p95=1.8, p99=4.25, rate=3.5, error_rate=0.12),
    EndpointStat(name="get_/orders/:id", p95=0.21, p99=0.65, rate=40.0, error_rate=0.01),
    EndpointStat(name="get_/cart", p95=0.35, p99=1.2, rate=22.0, error_rate=0.002),
    EndpointStat(name="put_/cart/items", p95=0.09, p99=0.3, rate=6.0, error_rate=0.05),
    EndpointStat(name="get_/search", p95=0.8, p99=2.5, rate=9.0, error_rate=0.03),
]
DOWNSTREAMS = [
    DownstreamStat(name="payments.internal", p99=3.9, rate=3.4, error_rate=0.1),
    DownstreamStat(name="inventory.internal", p99=0.45, rate=30.0, error_rate=0.0),
    DownstreamStat(name="api.stripe.com", p99=1.1, rate=1.5, error_rate=0.02),
    DownstreamStat(name="search.internal", p99=2.2, rate=9.0, error_rate=0.04),
]
_SENTENCE_BREAK = re.compile(r"[.;!?]\s+[A-Z]")


def assert_one_clear_sentence(error: ApmUnavailable, harness: Harness) -> str:
    message = str(error)
    assert message.endswith("."), message
    assert "\n" not in message, message
    assert not _SENTENCE_BREAK.search(message), message
    assert harness.display_name in message, message
    for secret in harness.secrets:
        assert secret not in message
        assert secret not in repr(error)
    # A chained exception would print the request (and its headers) in a traceback.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return message


def by_p99(stats: Sequence[EndpointStat | DownstreamStat]) -> list[str]:
    return [s.name for s in sorted(stats, key=lambda s: -(s.p99 or 0.0))]


def test_every_registered_backend_has_a_harness() -> None:
    assert set(BACKENDS) <= set(HARNESSES), set(BACKENDS) - set(HARNESSES)


async def test_factory_without_what_it_needs_says_so(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ApmUnavailable) as caught:
        BACKENDS[harness.name](ApmBackendOptions(session=session))
    assert_one_clear_sentence(caught.value, harness)


async def test_endpoints_come_slowest_first_in_seconds(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    got = await harness.build().slowest_endpoints(harness.target, harness.window_seconds, limit=10)
    assert [s.name for s in got] == by_p99(ENDPOINTS)
    truth = {s.name: s for s in ENDPOINTS}
    for stat in got:
        expected = truth[stat.name]
        assert stat.p95 == pytest.approx(expected.p95, rel=1e-6)
        assert stat.p99 == pytest.approx(expected.p99, rel=1e-6)
        assert stat.rate == pytest.approx(expected.rate, rel=harness.rate_tolerance)
        assert stat.error_rate == pytest.approx(expected.error_rate, rel=1e-6, abs=1e-9)


async def test_endpoint_limit_keeps_the_slowest(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    got = await harness.build().slowest_endpoints(harness.target, harness.window_seconds, limit=3)
    assert [s.name for s in got] == by_p99(ENDPOINTS)[:3]


async def test_downstreams_come_slowest_first_in_seconds(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    got = await harness.build().slowest_downstreams(harness.target, harness.window_seconds)
    assert [s.name for s in got] == by_p99(DOWNSTREAMS)
    truth = {s.name: s for s in DOWNSTREAMS}
    for stat in got:
        expected = truth[stat.name]
        assert stat.p99 == pytest.approx(expected.p99, rel=1e-6)
        assert stat.rate == pytest.approx(expected.rate, rel=harness.rate_tolerance)
        assert stat.error_rate == pytest.approx(expected.error_rate, rel=1e-6, abs=1e-9)


async def test_downstream_limit_keeps_the_slowest(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    got = await harness.build().slowest_downstreams(harness.target, harness.window_seconds, limit=2)
    assert [s.name for s in got] == by_p99(DOWNSTREAMS)[:2]


async def test_a_service_without_data_gives_empty_lists(harness: Harness) -> None:
    backend = harness.build()
    assert await backend.slowest_endpoints(harness.target, harness.window_seconds) == []
    assert await backend.slowest_downstreams(harness.target, harness.window_seconds) == []


async def test_bad_arguments_are_refused_before_any_request(harness: Harness) -> None:
    backend = harness.build()
    with pytest.raises(ValueError, match="window_seconds"):
        await backend.slowest_endpoints(harness.target, 0)
    with pytest.raises(ValueError, match="limit"):
        await backend.slowest_downstreams(harness.target, harness.window_seconds, limit=0)
    assert harness.request_count() == 0


async def test_rejected_credentials_name_the_fix(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    with pytest.raises(ApmUnavailable) as caught:
        await harness.build(wrong_key=True).slowest_endpoints(
            harness.target, harness.window_seconds
        )
    message = assert_one_clear_sentence(caught.value, harness)
    assert "credentials" in message
    assert "check" in message
    assert harness.request_count() == 1


async def test_rate_limit_passes_on_the_retry_hint(harness: Harness) -> None:
    harness.fail_with(Failure.RATE_LIMITED)
    with pytest.raises(ApmUnavailable) as caught:
        await harness.build().slowest_endpoints(harness.target, harness.window_seconds)
    message = assert_one_clear_sentence(caught.value, harness)
    assert "rate-limiting" in message
    assert "retry in 30 s" in message


async def test_one_server_error_is_retried(harness: Harness) -> None:
    await harness.seed(ENDPOINTS, DOWNSTREAMS)
    harness.fail_with(None, server_errors=1)
    got = await harness.build().slowest_downstreams(harness.target, harness.window_seconds)
    assert [s.name for s in got] == by_p99(DOWNSTREAMS)
    assert harness.request_count() == 2


async def test_a_lasting_server_error_is_retried_once_then_reported(harness: Harness) -> None:
    harness.fail_with(Failure.SERVER_ERROR)
    with pytest.raises(ApmUnavailable) as caught:
        await harness.build().slowest_endpoints(harness.target, harness.window_seconds)
    message = assert_one_clear_sentence(caught.value, harness)
    assert "server error (HTTP 500)" in message
    assert harness.request_count() == 2


async def test_a_silent_backend_is_abandoned_at_the_timeout(harness: Harness) -> None:
    harness.fail_with(Failure.HANG)
    started = time.monotonic()
    with pytest.raises(ApmUnavailable) as caught:
        await harness.build(timeout_seconds=0.3).slowest_downstreams(
            harness.target, harness.window_seconds
        )
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.0
    assert "did not answer within 0.3 s" in assert_one_clear_sentence(caught.value, harness)


async def test_an_answer_that_is_not_json_is_reported(harness: Harness) -> None:
    harness.fail_with(Failure.NOT_JSON)
    with pytest.raises(ApmUnavailable) as caught:
        await harness.build().slowest_endpoints(harness.target, harness.window_seconds)
    assert "not JSON" in assert_one_clear_sentence(caught.value, harness)


async def test_an_unreachable_backend_is_reported(harness: Harness) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    backend = harness.build_unreachable(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ApmUnavailable) as caught:
        await backend.slowest_endpoints(harness.target, harness.window_seconds)
    message = assert_one_clear_sentence(caught.value, harness)
    assert f"127.0.0.1:{closed_port}" in message
