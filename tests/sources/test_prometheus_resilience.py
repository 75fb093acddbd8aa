"""Retries, timeouts, caps and error text, against a small stand-in for Prometheus's API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.sources.base import MetricsUnavailable, QueryRejected
from bot.sources.prometheus import PrometheusClient
from tests.promstack import free_port, serve_app

VECTOR_OK = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {"a": "b"}, "value": [1, "NaN"]}]},
}
QUERY_TIMEOUT = {"status": "error", "errorType": "timeout", "error": "query timed out"}

Behaviour = Callable[[int, web.Request], Awaitable[web.StreamResponse]]


@dataclass
class StandIn:
    """Counts requests and how many are in flight at once; answers via `behaviour`."""

    behaviour: Behaviour
    requests: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    forms: list[dict[str, str]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.forms.append({k: str(v) for k, v in (await request.post()).items()})
        self.auth_headers.append(request.headers.get("Authorization"))
        try:
            return await self.behaviour(self.requests, request)
        finally:
            self.in_flight -= 1


@contextlib.asynccontextmanager
async def stand_in_for(behaviour: Behaviour) -> AsyncIterator[tuple[StandIn, str]]:
    stand_in = StandIn(behaviour)
    app = web.Application()
    app.router.add_route("*", "/api/v1/{endpoint}", stand_in.handle)
    async with serve_app(app) as address:
        yield stand_in, f"http://{address}"


async def ok(_n: int, _request: web.Request) -> web.StreamResponse:
    return web.json_response(VECTOR_OK)


async def first_503_then_ok(n: int, _request: web.Request) -> web.StreamResponse:
    return web.json_response(QUERY_TIMEOUT, status=503) if n == 1 else web.json_response(VECTOR_OK)


async def always_503(_n: int, _request: web.Request) -> web.StreamResponse:
    return web.json_response(QUERY_TIMEOUT, status=503)


def slow(first_only: bool) -> Behaviour:
    async def answer(n: int, _request: web.Request) -> web.StreamResponse:
        if n == 1 or not first_only:
            await asyncio.sleep(1.0)
        return web.json_response(VECTOR_OK)

    return answer


def held(seconds: float) -> Behaviour:
    async def answer(_n: int, _request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response(VECTOR_OK)

    return answer


async def test_one_503_is_retried_and_succeeds() -> None:
    async with stand_in_for(first_503_then_ok) as (stand_in, url):
        async with PrometheusClient(url) as client:
            samples = await client.query("up")
        assert stand_in.requests == 2
        assert samples[0].labels == {"a": "b"}
        assert samples[0].value != samples[0].value  # NaN


async def test_two_503s_fail_with_prometheus_text() -> None:
    async with stand_in_for(always_503) as (stand_in, url):
        async with PrometheusClient(url) as client:
            with pytest.raises(MetricsUnavailable, match="timeout: query timed out") as caught:
                await client.query("up")
        assert stand_in.requests == 2
        assert "HTTP 503" in str(caught.value)
        assert url.removeprefix("http://") in str(caught.value)


async def test_one_timeout_is_retried() -> None:
    async with stand_in_for(slow(first_only=True)) as (stand_in, url):
        async with PrometheusClient(url, timeout=0.3) as client:
            samples = await client.query("up")
        assert stand_in.requests == 2
        assert len(samples) == 1
        assert client.requests_sent == 2
        assert client.queries_made == 1


async def test_two_timeouts_fail_naming_the_wait() -> None:
    async with stand_in_for(slow(first_only=False)) as (stand_in, url):
        async with PrometheusClient(url, timeout=0.3) as client:
            with pytest.raises(MetricsUnavailable, match=r"did not answer within 0\.3s"):
                await client.query("up")
        assert stand_in.requests == 2


async def test_global_cap_is_never_exceeded() -> None:
    async with stand_in_for(held(0.05)) as (stand_in, url):
        async with PrometheusClient(url, max_concurrency=8) as client:
            callers = [client.caller(cap=4) for _ in range(5)]
            await asyncio.gather(*(c.query("up") for c in callers for _ in range(6)))
        assert stand_in.requests == 30
        assert stand_in.most_in_flight == 8


async def test_caller_cap_is_never_exceeded() -> None:
    async with stand_in_for(held(0.05)) as (stand_in, url):
        async with PrometheusClient(url, max_concurrency=8) as client:
            view = client.caller(cap=3)
            await asyncio.gather(*(view.query("up") for _ in range(12)))
        assert stand_in.most_in_flight == 3


async def test_range_query_sends_a_capped_step() -> None:
    async def matrix(_n: int, _request: web.Request) -> web.StreamResponse:
        data = {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "+Inf"]]}]}
        return web.json_response({"status": "success", "data": data})

    async with stand_in_for(matrix) as (stand_in, url):
        async with PrometheusClient(url) as client:
            series = await client.query_range("up", start=0, end=11_001, step=2)
        assert stand_in.forms[0]["step"] == "11"
        assert stand_in.forms[0]["query"] == "up"
        assert series[0].points == [(1.0, float("inf"))]


async def test_credentials_are_sent_but_never_shown() -> None:
    async def broken(_n: int, _request: web.Request) -> web.StreamResponse:
        return web.Response(status=502, text="<html>bad gateway</html>")

    async with stand_in_for(broken) as (stand_in, url):
        secret_url = url.replace("http://", "http://alice:s3cret@")
        async with PrometheusClient(secret_url) as client:
            with pytest.raises(MetricsUnavailable, match="HTTP 502") as caught:
                await client.query("up")
        expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        assert stand_in.auth_headers == [expected, expected]  # a 5xx is retried once
        assert "s3cret" not in str(caught.value)
        assert "alice" not in str(caught.value)


async def test_refused_connection_names_host_and_port() -> None:
    port = free_port()
    async with PrometheusClient(f"http://bob:hunter2@127.0.0.1:{port}") as client:
        with pytest.raises(MetricsUnavailable) as caught:
            await client.query("up")
    message = str(caught.value)
    assert message.startswith(f"Could not connect to Prometheus at 127.0.0.1:{port}: ")
    assert "hunter2" not in message
    assert "bob" not in message


def test_a_url_without_host_is_refused() -> None:
    with pytest.raises(ValueError, match="http://host:9090"):
        PrometheusClient("prometheus:9090")


def answering(status: int, body: str, **headers: str) -> Behaviour:
    async def answer(_n: int, _request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=body, headers=headers)

    return answer


async def test_a_lasting_500_is_retried_once_and_named_a_server_error() -> None:
    async with (
        stand_in_for(answering(500, "internal")) as (stand_in, url),
        PrometheusClient(url) as client,
    ):
        with pytest.raises(MetricsUnavailable) as caught:
            await client.query("up")
    assert stand_in.requests == 2
    assert "server error (HTTP 500), twice in a row" in str(caught.value)
    assert not isinstance(caught.value, QueryRejected)


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_not_retried_and_name_the_fix(status: int) -> None:
    async with (
        stand_in_for(answering(status, "denied")) as (stand_in, url),
        PrometheusClient(url.replace("http://", "http://carol:pa55@")) as client,
    ):
        with pytest.raises(MetricsUnavailable) as caught:
            await client.query("up")
    assert stand_in.requests == 1
    message = str(caught.value)
    assert f"refused the credentials (HTTP {status}); check the user and password" in message
    assert "pa55" not in message
    assert "carol" not in message


@pytest.mark.parametrize(("retry_after", "hint"), [("30", "retry in 30 s"), ("", "a minute")])
async def test_rate_limiting_passes_on_retry_after(retry_after: str, hint: str) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    async with (
        stand_in_for(answering(429, "slow down", **headers)) as (stand_in, url),
        PrometheusClient(url) as client,
    ):
        with pytest.raises(MetricsUnavailable, match="is rate-limiting queries") as caught:
            await client.query("up")
    assert stand_in.requests == 1
    assert hint in str(caught.value)


async def test_an_answer_that_is_not_json_says_so() -> None:
    async with (
        stand_in_for(answering(200, "<html>login</html>")) as (_stand_in, url),
        PrometheusClient(url) as client,
    ):
        with pytest.raises(MetricsUnavailable, match="HTTP 200 with a body that is not JSON"):
            await client.query("up")


async def test_a_refused_query_is_a_query_rejected() -> None:
    body = '{"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}'
    async with (
        stand_in_for(answering(400, body)) as (stand_in, url),
        PrometheusClient(url) as client,
    ):
        with pytest.raises(QueryRejected, match="bad_data: parse error at char 3"):
            await client.query("up(")
    assert stand_in.requests == 1
