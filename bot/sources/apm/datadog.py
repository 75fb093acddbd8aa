"""Datadog APM through the metrics query API (`GET /api/v1/query`).

Datadog derives trace metrics from 100% of traffic: `trace.<operation>` is a latency
distribution in seconds, `trace.<operation>.hits` and `.errors` are counts. One request carries
every sub-query (comma-separated); each answered series says which one it belongs to through
`query_index`. A window is summarised as the mean of the interval values Datadog returns.

Endpoints are the service's server spans (`web.request` for dd-trace-js by default) grouped by
`resource_name`, so they carry Datadog's normalised names (`get_/orders/:id`). Downstreams are
its client spans (`http.request`) grouped by a peer tag, which the Agent adds to client-span
stats from 7.60 on (`peer.hostname` by default).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm._http import Request, Vendor, fetch_json, seconds_header
from bot.sources.apm.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ApmBackendOptions,
    ApmTarget,
    ApmUnavailable,
    check_query_arguments,
    slowest_first,
)

DEFAULT_DATADOG_URL = "https://api.datadoghq.com"
QUERY_PATH = "/api/v1/query"
DEFAULT_SERVER_OPERATION = "web.request"
DEFAULT_CLIENT_OPERATION = "http.request"
DEFAULT_DOWNSTREAM_TAG = "peer.hostname"
# dd-trace-js names outbound HTTP spans `<service>-http-client` unless integration service
# names are switched off, so downstream queries look under both names.
CLIENT_SERVICE_SUFFIX = "-http-client"
CREDENTIAL_HINT = "check DATADOG_API_KEY and DATADOG_APP_KEY"

_TAG_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/\-]*$")
_SECONDS_PER_UNIT = {
    "nanosecond": 1e-9,
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
}

Summary = dict[int, float | None]


@dataclass(frozen=True)
class _Series:
    group: str
    query_index: int
    value: float | None


class DatadogBackend:
    """Slowest endpoints and downstreams of a service from Datadog trace metrics.

    Example::

        backend = DatadogBackend(session=session, api_key=SecretStr("..."),
                                 application_key=SecretStr("..."))
        await backend.slowest_endpoints(ApmTarget(service="checkout", env="prod"), 900)
    """

    name = "datadog"

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_key: SecretStr,
        application_key: SecretStr,
        base_url: str = DEFAULT_DATADOG_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        server_operation: str = DEFAULT_SERVER_OPERATION,
        client_operation: str = DEFAULT_CLIENT_OPERATION,
        downstream_tag: str = DEFAULT_DOWNSTREAM_TAG,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._api_key = api_key
        self._application_key = application_key
        self._url = base_url.rstrip("/") + QUERY_PATH
        self._timeout_seconds = timeout_seconds
        self._server_metric = f"trace.{server_operation}"
        self._client_metric = f"trace.{client_operation}"
        self._downstream_tag = downstream_tag
        self._clock = clock
        self._vendor = Vendor(
            name="Datadog",
            credential_hint=CREDENTIAL_HINT,
            secrets=(api_key.get_secret_value(), application_key.get_secret_value()),
            retry_after=_retry_after,
            error_detail=_error_detail,
        )

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]:
        check_query_arguments(window_seconds, limit)
        scope = "{" + ",".join(_scope_terms(service)) + "}"
        by = " by {resource_name}"
        metric = self._server_metric
        queries = [
            f"p95:{metric}{scope}{by}",
            f"p99:{metric}{scope}{by}",
            f"sum:{metric}.hits{scope}{by}.as_rate()",
            f"sum:{metric}.errors{scope}{by}.as_rate()",
        ]
        summaries = await self._summaries(queries, "resource_name", window_seconds)
        stats = [
            EndpointStat(
                name=name,
                p95=values.get(0),
                p99=values.get(1),
                rate=values.get(2) or 0.0,
                error_rate=_error_rate(values.get(2), values.get(3)),
            )
            for name, values in summaries.items()
        ]
        return slowest_first(stats, limit)

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]:
        check_query_arguments(window_seconds, limit)
        scope = "{" + " AND ".join(_client_scope_terms(service)) + "}"
        by = f" by {{{self._downstream_tag}}}"
        metric = self._client_metric
        queries = [
            f"p99:{metric}{scope}{by}",
            f"sum:{metric}.hits{scope}{by}.as_rate()",
            f"sum:{metric}.errors{scope}{by}.as_rate()",
        ]
        summaries = await self._summaries(queries, self._downstream_tag, window_seconds)
        stats = [
            DownstreamStat(
                name=name,
                p99=values.get(0),
                rate=values.get(1) or 0.0,
                error_rate=_error_rate(values.get(1), values.get(2)),
            )
            for name, values in summaries.items()
        ]
        return slowest_first(stats, limit)

    async def _summaries(
        self, queries: list[str], group_tag: str, window_seconds: int
    ) -> dict[str, Summary]:
        body = await self._query(",".join(queries), window_seconds)
        grouped: dict[str, Summary] = defaultdict(dict)
        for series in _read_series(body, group_tag, self._vendor):
            grouped[series.group][series.query_index] = series.value
        return dict(grouped)

    async def _query(self, query: str, window_seconds: int) -> object:
        now = int(self._clock())
        request = Request(
            method="GET",
            url=self._url,
            headers={
                "DD-API-KEY": self._api_key.get_secret_value(),
                "DD-APPLICATION-KEY": self._application_key.get_secret_value(),
                "Accept": "application/json",
            },
            params={"from": str(now - window_seconds), "to": str(now), "query": query},
        )
        return await fetch_json(self._session, request, self._vendor, self._timeout_seconds)


def from_options(options: ApmBackendOptions) -> DatadogBackend:
    """Registry factory: needs both keys; `base_url` picks the site (default US1)."""
    if options.api_key is None or options.application_key is None:
        raise ApmUnavailable("Datadog is not configured: set DATADOG_API_KEY and DATADOG_APP_KEY.")
    return DatadogBackend(
        session=options.session,
        api_key=options.api_key,
        application_key=options.application_key,
        base_url=options.base_url or DEFAULT_DATADOG_URL,
        timeout_seconds=options.timeout_seconds,
    )


def _scope_terms(target: ApmTarget) -> list[str]:
    terms = [f"service:{_tag_value('service', target.service)}"]
    if target.env:
        terms.append(f"env:{_tag_value('env', target.env)}")
    return terms


def _client_scope_terms(target: ApmTarget) -> list[str]:
    service = _tag_value("service", target.service)
    terms = [f"service IN ({service},{service}{CLIENT_SERVICE_SUFFIX})"]
    if target.env:
        terms.append(f"env:{_tag_value('env', target.env)}")
    return terms


def _tag_value(tag: str, value: str) -> str:
    """Refuse values that could change the meaning of the query instead of escaping them."""
    if not _TAG_VALUE.fullmatch(value):
        raise ApmUnavailable(
            f"The {tag} {value!r} is not a valid Datadog tag value; "
            "use letters, digits and _ . : / - only."
        )
    return value


def _read_series(body: object, group_tag: str, vendor: Vendor) -> list[_Series]:
    if not isinstance(body, dict):
        raise ApmUnavailable("Datadog sent an answer in an unexpected shape.")
    if body.get("status") == "error" or body.get("errors"):
        detail = vendor.scrub(_error_detail(body) or "no reason given")
        raise ApmUnavailable(f"Datadog could not run the query: {detail}.")
    raw_series = body.get("series")
    if not isinstance(raw_series, list):
        raise ApmUnavailable("Datadog sent an answer without a series list.")
    return [series for raw in raw_series if (series := _one_series(raw, group_tag))]


def _one_series(raw: object, group_tag: str) -> _Series | None:
    if not isinstance(raw, dict):
        return None
    scope = raw.get("scope")
    tags = raw.get("tag_set") or (scope.split(",") if isinstance(scope, str) else None)
    group = _group_value(tags, group_tag)
    if group is None:
        return None
    value = _mean(raw.get("pointlist"))
    scale = _seconds_per_unit(raw.get("unit"))
    scaled = value * scale if value is not None and scale is not None else value
    index = raw.get("query_index", 0)
    return _Series(group=group, query_index=index if isinstance(index, int) else 0, value=scaled)


def _group_value(tags: object, group_tag: str) -> str | None:
    if not isinstance(tags, list):
        return None
    prefix = group_tag + ":"
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def _mean(pointlist: object) -> float | None:
    if not isinstance(pointlist, list):
        return None
    values = [
        float(point[1])
        for point in pointlist
        if isinstance(point, list) and len(point) == 2 and isinstance(point[1], int | float)
    ]
    return sum(values) / len(values) if values else None


def _seconds_per_unit(unit: object) -> float | None:
    """Scale to seconds when the series declares a time unit; None leaves the value as is."""
    if not isinstance(unit, list) or not unit or not isinstance(unit[0], dict):
        return None
    if unit[0].get("family") != "time":
        return None
    return _SECONDS_PER_UNIT.get(str(unit[0].get("name")))


def _error_rate(hits_per_second: float | None, errors_per_second: float | None) -> float | None:
    if not hits_per_second:
        return None
    return min(1.0, (errors_per_second or 0.0) / hits_per_second)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    reset = seconds_header(headers, "X-RateLimit-Reset")
    return reset if reset is not None else seconds_header(headers, "X-RateLimit-Period")


def _error_detail(body: object) -> str | None:
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(error) for error in errors)
    error = body.get("error")
    return str(error) if error else None
