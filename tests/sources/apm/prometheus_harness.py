"""The Prometheus-derived APM backend's harness: a real Prometheus behind a fault-injecting proxy.

`seed` turns the truth into a prom-client exposition (a request histogram per route, a client
histogram per peer, 5xx answers as their own series) that grows with `growing_counters`, serves
it to a real Prometheus scraping every second, and waits until every sample in the query window
comes from that exposition (a `harness_seed` gauge carries each seed's number).
Histogram buckets sit exactly at each p95 and p99, so Prometheus's interpolation gives them back.
The proxy in front of Prometheus asks for basic-auth credentials and injects the shared failures.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm import BACKENDS, ApmBackend, ApmBackendOptions, ApmTarget
from bot.sources.prometheus import PrometheusClient
from tests.fakes.server import Failure, FakeServer
from tests.promstack import (
    PrometheusStack,
    growing_counters,
    run_prometheus,
    serve_exposition,
)

JOB = "checkout"
USER = "apm"
WINDOW_SECONDS = 3
GROWTH_PER_SECOND = 0.1  # growing_counters: rate = value x this
SEED_GAUGE = "harness_seed"
SERVER = "http_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"


def exposition(endpoints: list[EndpointStat], downstreams: list[DownstreamStat]) -> str:
    """prom-client histograms whose rates, quantiles and error shares are the given truth."""
    lines = [f"# TYPE {SERVER} histogram", f"# TYPE {CLIENT} histogram"]
    for endpoint in endpoints:
        lines += _histogram(SERVER, "route", endpoint.name, endpoint, endpoint.p95)
    for downstream in downstreams:
        lines += _histogram(CLIENT, "server_address", downstream.name, downstream, None)
    return "\n".join(lines) + "\n"


def _histogram(
    family: str, key: str, name: str, stat: EndpointStat | DownstreamStat, p95: float | None
) -> list[str]:
    assert stat.p99 is not None
    total = stat.rate / GROWTH_PER_SECOND
    bounds = [(p95, 0.95)] if p95 is not None and p95 < stat.p99 else []
    bounds += [(stat.p99, 0.99), (stat.p99 * 2, 1.0)]
    error_share = stat.error_rate or 0.0
    lines: list[str] = []
    for status, share in (("200", 1 - error_share), ("500", error_share)):
        if share <= 0:
            continue
        labels = f'{key}="{name}",status_code="{status}"'
        count = total * share
        for upper, below in bounds:
            lines.append(f'{family}_bucket{{{labels},le="{upper!r}"}} {count * below!r}')
        lines.append(f'{family}_bucket{{{labels},le="+Inf"}} {count!r}')
        lines.append(f"{family}_count{{{labels}}} {count!r}")
        lines.append(f"{family}_sum{{{labels}}} {count * stat.p99!r}")
    return lines


class PrometheusProxy(FakeServer):
    """Forwards to Prometheus when the credentials match and no failure is injected."""

    def __init__(self, upstream: str, password: str, session: aiohttp.ClientSession) -> None:
        super().__init__()
        self.upstream = upstream
        self._expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
        self._session = session

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/{path:.*}", self.forward)]

    async def forward(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        if request.headers.get("Authorization") != self._expected:
            return web.json_response({"status": "error", "error": "unauthorized"}, status=401)
        failed = await self.injected_failure()
        if failed is not None:
            return failed
        async with self._session.request(
            request.method,
            self.upstream + request.path,
            params=request.query,
            data=seen.body.encode(),
            headers={"Content-Type": request.headers.get("Content-Type", "text/plain")},
        ) as answer:
            body = await answer.read()
            kind = answer.headers.get("Content-Type", "application/json")
            return web.Response(status=answer.status, body=body, headers={"Content-Type": kind})

    def rate_limited(self) -> web.Response:
        headers = {"Retry-After": str(self.retry_after_seconds)}
        return web.json_response({"status": "error"}, status=429, headers=headers)


class PrometheusHarness:
    name = "prometheus"
    display_name = "Prometheus"
    target = ApmTarget(service=JOB)  # no selector: the backend reads {job="checkout"}
    window_seconds = WINDOW_SECONDS
    rate_tolerance = 0.05  # scrapes land a few ms off the second; quantiles and ratios are exact

    def __init__(
        self,
        proxy: PrometheusProxy,
        prometheus: PrometheusStack,
        session: aiohttp.ClientSession,
        password: str,
    ) -> None:
        self.proxy = proxy
        self.prometheus = prometheus
        self.session = session
        self.secrets: tuple[str, ...] = (password, "wrong-" + password)
        self.render: Callable[[], str] = lambda: ""
        self._seeds = 0

    async def seed(self, endpoints: list[EndpointStat], downstreams: list[DownstreamStat]) -> None:
        self._seeds += 1
        marker = f"# TYPE {SEED_GAUGE} gauge\n{SEED_GAUGE} {self._seeds}\n"
        grow = growing_counters(exposition(endpoints, downstreams), GROWTH_PER_SECOND)
        self.render = lambda: grow() + marker
        await self.prometheus.wait_for_series(_window_holds_only(self._seeds))

    def fail_with(self, failure: Failure | None, server_errors: int = 0) -> None:
        self.proxy.failure = failure
        self.proxy.server_errors = server_errors

    def request_count(self) -> int:
        return len(self.proxy.requests)

    def build(self, *, timeout_seconds: float = 5.0, wrong_key: bool = False) -> ApmBackend:
        password = self.secrets[1] if wrong_key else self.secrets[0]
        address = self.proxy.base_url.removeprefix("http://")
        return self._build(f"http://{USER}:{password}@{address}", timeout_seconds)

    def build_unreachable(self, base_url: str) -> ApmBackend:
        return self._build(base_url, 2.0)

    def _build(self, url: str, timeout_seconds: float) -> ApmBackend:
        client = PrometheusClient(url, session=self.session)
        options = ApmBackendOptions(
            session=self.session, metrics=client.caller(), timeout_seconds=timeout_seconds
        )
        return BACKENDS["prometheus"](options)


@contextlib.asynccontextmanager
async def _running(session: aiohttp.ClientSession) -> AsyncIterator[PrometheusHarness]:
    holder: list[PrometheusHarness] = []

    def current() -> str:
        return holder[0].render() if holder else ""

    async with serve_exposition(current) as target, run_prometheus({JOB: [target]}) as prom:
        password = secrets.token_hex(12)
        proxy = PrometheusProxy(prom.url, password, session)
        await proxy.start()
        try:
            holder.append(PrometheusHarness(proxy, prom, session, password))
            yield holder[0]
        finally:
            await proxy.stop()


async def start_prometheus(
    session: aiohttp.ClientSession,
) -> tuple[PrometheusHarness, Callable[[], Awaitable[None]]]:
    stack = contextlib.AsyncExitStack()
    harness = await stack.enter_async_context(_running(session))
    return harness, stack.aclose


def _window_holds_only(seed: int) -> str:
    """True once a second more than the query window has been scraped, all of it from `seed`."""
    span = f'{SEED_GAUGE}{{job="{JOB}"}}[{WINDOW_SECONDS + 1}s]'
    scrapes = WINDOW_SECONDS + 1
    return f"min_over_time({span}) == {seed} and count_over_time({span}) >= {scrapes}"
