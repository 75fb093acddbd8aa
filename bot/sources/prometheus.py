"""Prometheus HTTP API client: timeouts, concurrency caps, one retry, readable errors.

    client = PrometheusClient("http://prometheus:9090")
    triage_view = client.caller(cap=4)        # one per triage; shares the client's global cap
    samples = await triage_view.query('sum(rate(http_requests_total{job="checkout"}[1m]))')
    await client.close()

Every failure surfaces as `MetricsUnavailable` whose message is Prometheus's own error text (for
example a query's parse error, raised as the `QueryRejected` subclass) or one sentence naming
host:port; credentials never appear. Server errors (5xx) and timeouts are retried once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
import structlog
from yarl import URL

from bot.sources.base import InstantSample, MetricsUnavailable, QueryRejected, RangeSeries
from bot.sources.prom_response import error_text, instant_samples, range_series
from bot.sources.promql import Selector, matchers_from

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_CALLER_CAP = 4
MAX_POINTS_PER_SERIES = 1100
SERIES_LOOKBACK_SECONDS = 6 * 3600
_RETRY_PAUSE = 0.2

log = structlog.get_logger(__name__)


def choose_step(start: float, end: float, requested: float | None = None) -> float:
    """The range step: at least 1 s, the requested one, and coarse enough for ~1,100 points."""
    if end < start:
        raise MetricsUnavailable(f"range end {end} is before its start {start}")
    floor = max(1.0, float(math.ceil((end - start) / MAX_POINTS_PER_SERIES)))
    return max(requested or 0.0, floor)


@dataclass(frozen=True)
class _Endpoint:
    url: URL
    headers: dict[str, str]  # may hold credentials: never log
    display: str  # host:port, safe to show

    @classmethod
    def parse(cls, base_url: str) -> _Endpoint:
        url = URL(base_url)
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("the Prometheus URL must look like http://host:9090")
        headers = {}
        if url.user is not None:
            pair = f"{url.user}:{url.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(url.with_user(None).with_password(None), headers, f"{url.host}:{url.port}")

    def at(self, path: str) -> URL:
        return self.url.with_path(self.url.path.rstrip("/") + path)


class PrometheusClient:
    """Shared by the whole bot; `caller()` hands out per-triage views with their own cap."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._endpoint = _Endpoint.parse(base_url)
        self._timeout = timeout
        self._global_cap = asyncio.Semaphore(max_concurrency)
        self._session = session
        self._owns_session = session is None
        self.queries_made = 0
        self.requests_sent = 0

    @property
    def address(self) -> str:
        return self._endpoint.display

    def caller(self, cap: int = DEFAULT_CALLER_CAP) -> PrometheusCaller:
        return PrometheusCaller(self, asyncio.Semaphore(cap))

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        return await self._query((), expr, at)

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        return await self._query_range((), expr, start, end, step)

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        return await self._series_names((), selector)

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _query(
        self, caps: Sequence[asyncio.Semaphore], expr: str, at: float | None
    ) -> list[InstantSample]:
        form = {"query": expr, "timeout": f"{self._timeout:g}"}
        if at is not None:
            form["time"] = f"{at:.3f}"
        return instant_samples(await self._call(caps, "POST", "/api/v1/query", form))

    async def _query_range(
        self,
        caps: Sequence[asyncio.Semaphore],
        expr: str,
        start: float,
        end: float,
        step: float | None,
    ) -> list[RangeSeries]:
        form = {
            "query": expr,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{choose_step(start, end, step):g}",
            "timeout": f"{self._timeout:g}",
        }
        return range_series(await self._call(caps, "POST", "/api/v1/query_range", form))

    async def _series_names(
        self, caps: Sequence[asyncio.Semaphore], selector: Mapping[str, str]
    ) -> set[str]:
        params = {
            "match[]": str(Selector(None, matchers_from(selector))),
            "start": f"{time.time() - SERIES_LOOKBACK_SECONDS:.3f}",
        }
        data = await self._call(caps, "GET", "/api/v1/label/__name__/values", params)
        if not isinstance(data, list):
            raise MetricsUnavailable("Prometheus answered the metric name lookup without a list")
        return {str(name) for name in data}

    async def _call(
        self, caps: Sequence[asyncio.Semaphore], method: str, path: str, form: dict[str, str]
    ) -> Any:
        self.queries_made += 1
        async with contextlib.AsyncExitStack() as held:
            for cap in (*caps, self._global_cap):  # caller's own cap first, then the shared one
                await held.enter_async_context(cap)
            try:
                return await self._send(method, path, form)
            except _Retryable as first:
                log.info("prometheus_retry", path=path, reason=str(first))
                await asyncio.sleep(_RETRY_PAUSE)
                try:
                    return await self._send(method, path, form)
                except _Retryable as second:
                    raise MetricsUnavailable(f"{second}, twice in a row") from None

    async def _send(self, method: str, path: str, form: dict[str, str]) -> Any:
        self.requests_sent += 1
        is_post = method == "POST"
        try:
            async with self._http().request(
                method,
                self._endpoint.at(path),
                data=form if is_post else None,
                params=None if is_post else form,
                headers=self._endpoint.headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                return await self._read(response)
        except TimeoutError:
            raise _Retryable(
                f"Prometheus at {self.address} did not answer within {self._timeout:g}s"
            ) from None
        except aiohttp.ClientConnectorError as error:
            reason = error.os_error.strerror or type(error.os_error).__name__
            raise MetricsUnavailable(
                f"Could not connect to Prometheus at {self.address}: {reason}"
            ) from None
        except aiohttp.ClientError as error:
            raise MetricsUnavailable(
                f"The connection to Prometheus at {self.address} failed ({type(error).__name__})"
            ) from None

    async def _read(self, response: aiohttp.ClientResponse) -> Any:
        try:
            payload = await response.json(content_type=None)
        except ValueError:
            payload = _NOT_JSON
        problem = error_text(payload)
        status = response.status
        self._refuse_by_status(status, response.headers.get("Retry-After"), problem)
        if problem is not None:
            raise QueryRejected(f"Prometheus rejected the query: {problem}")
        if payload is _NOT_JSON:
            raise MetricsUnavailable(
                f"Prometheus at {self.address} answered HTTP {status} with a body that is not JSON"
            )
        if status >= 300 or not isinstance(payload, dict) or "data" not in payload:
            raise MetricsUnavailable(
                f"Prometheus at {self.address} answered HTTP {status} without a usable API response"
            )
        return payload["data"]

    def _refuse_by_status(self, status: int, retry_after: str | None, problem: str | None) -> None:
        """Raise for answers that say something about the server, not about the query."""
        if status >= 500:
            detail = f": {problem}" if problem else ""
            raise _Retryable(
                f"Prometheus at {self.address} failed with a server error (HTTP {status}{detail})"
            )
        if status in (401, 403):
            raise MetricsUnavailable(
                f"Prometheus at {self.address} refused the credentials (HTTP {status}); "
                "check the user and password in PROMETHEUS_URL"
            )
        if status == 429:
            raise MetricsUnavailable(
                f"Prometheus at {self.address} is rate-limiting queries; {_retry_hint(retry_after)}"
            )

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


class _Retryable(Exception):
    """A server error (5xx) or a timeout: worth one more try."""


_NOT_JSON = object()


def _retry_hint(retry_after: str | None) -> str:
    """`retry in N s` from a Retry-After header given in seconds, else a plain suggestion."""
    try:
        seconds = float(retry_after or "")
    except ValueError:
        return "retry in a minute"
    if not math.isfinite(seconds) or seconds <= 0:
        return "retry in a minute"
    return f"retry in {math.ceil(seconds)} s"


class PrometheusCaller:
    """A view of the client with its own concurrency cap, for one triage (a `MetricsQuerier`)."""

    def __init__(self, client: PrometheusClient, cap: asyncio.Semaphore) -> None:
        self._client = client
        self._caps = (cap,)

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        return await self._client._query(self._caps, expr, at)

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        return await self._client._query_range(self._caps, expr, start, end, step)

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        return await self._client._series_names(self._caps, selector)
