"""A fake Datadog metrics query API (`GET /api/v1/query`) serving APM trace metrics.

Seeded spans become `trace.<operation>` (latency distribution, answered for p50..p99),
`trace.<operation>.hits` and `trace.<operation>.errors` (counts per interval, or per second
with `.as_rate()`). Several comma-separated queries share one request; each series carries its
`query_index`. Scopes accept `tag:value` terms joined by `,` or ` AND `, and `tag IN (a,b)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from bot.models import DownstreamStat, EndpointStat
from tests.fakes.server import Failure, FakeServer

INTERVAL_SECONDS = 60
_PERCENTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}
_QUERY = re.compile(
    r"^(?P<aggr>\w+):(?P<metric>[a-z0-9_.]+)\{(?P<scope>[^{}]*)\}"
    r"(?: by \{(?P<group>[a-z0-9_.]+)\})?(?P<rate>\.as_rate\(\))?$"
)
_IN_TERM = re.compile(r"^(?P<tag>[a-z0-9_.]+) IN \((?P<values>[^()]*)\)$")
_TIME_UNITS = {"second": 1.0, "millisecond": 1000.0}


@dataclass(frozen=True)
class SpanGroup:
    """Traffic of one operation under one set of tags; latencies in seconds."""

    operation: str
    tags: dict[str, str]
    p95: float | None
    p99: float | None
    hits_per_second: float
    errors_per_second: float


class FakeDatadog(FakeServer):
    """`latency_unit` ("second" or "millisecond") is the unit latency series are reported in;
    `error_body`, when set, is answered with `error_status` (HTTP 400 as Datadog does for a bad
    query, or 200 for an answer whose `status` is "error")."""

    def __init__(
        self,
        api_key: str = "dd-api-key-0123456789",
        application_key: str = "dd-app-key-9876543210",
        latency_unit: str = "second",
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.application_key = application_key
        self.latency_unit = latency_unit
        self.groups: list[SpanGroup] = []
        self.error_body: dict[str, object] | None = None
        self.error_status = 400

    def seed_endpoints(
        self, service: str, env: str, stats: list[EndpointStat], operation: str = "web.request"
    ) -> None:
        for stat in stats:
            tags = {"service": service, "env": env, "resource_name": stat.name}
            errors = stat.rate * (stat.error_rate or 0.0)
            self.groups.append(SpanGroup(operation, tags, stat.p95, stat.p99, stat.rate, errors))

    def seed_downstreams(
        self,
        service: str,
        env: str,
        stats: list[DownstreamStat],
        operation: str = "http.request",
        client_service_suffix: str = "-http-client",
    ) -> None:
        for stat in stats:
            tags = {"service": service + client_service_suffix, "env": env}
            tags["peer.hostname"] = stat.name
            errors = stat.rate * (stat.error_rate or 0.0)
            self.groups.append(SpanGroup(operation, tags, None, stat.p99, stat.rate, errors))

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v1/query", self._query)]

    def rate_limited(self) -> web.Response:
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Period": "60",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(self.retry_after_seconds),
        }
        return web.json_response({"errors": ["Rate limit exceeded"]}, status=429, headers=headers)

    async def _query(self, request: web.Request) -> web.Response:
        await self.record(request)
        failure = await self.injected_failure()
        if failure is not None:
            return failure
        if self.failure is Failure.REJECT_CREDENTIALS or not self._keys_match(request):
            return web.json_response({"errors": ["Forbidden"]}, status=403)
        if self.error_body is not None:
            return web.json_response(self.error_body, status=self.error_status)
        try:
            start, end = _window(request)
            queries = split_queries(request.query.get("query", ""))
            series = [s for i, q in enumerate(queries) for s in self._answer(i, q, start, end)]
        except ValueError as problem:
            return web.json_response({"errors": [str(problem)]}, status=400)
        return web.json_response(
            {
                "status": "ok",
                "res_type": "time_series",
                "query": request.query["query"],
                "from_date": start * 1000,
                "to_date": end * 1000,
                "series": series,
                "message": "",
                "group_by": sorted({g for q in queries if (g := _parse(q)["group"])}),
            }
        )

    def _keys_match(self, request: web.Request) -> bool:
        return (
            request.headers.get("DD-API-KEY") == self.api_key
            and request.headers.get("DD-APPLICATION-KEY") == self.application_key
        )

    def _answer(self, index: int, query: str, start: int, end: int) -> list[dict[str, object]]:
        parsed = _parse(query)
        metric, suffix = _split_metric(parsed["metric"] or "")
        scope = _parse_scope(parsed["scope"] or "")
        answered = []
        for group in self.groups:
            if group.operation != metric or not _in_scope(group.tags, scope):
                continue
            value = self._value(group, parsed["aggr"] or "", suffix, bool(parsed["rate"]))
            if value is None:
                continue  # Datadog has no series for a metric never emitted under these tags
            tag_set = (
                [f"{parsed['group']}:{group.tags[parsed['group']]}"] if parsed["group"] else []
            )
            answered.append(
                self._series(
                    index=index,
                    query=query,
                    tag_set=tag_set,
                    value=value,
                    suffix=suffix,
                    start=start,
                    end=end,
                )
            )
        return answered

    def _value(self, group: SpanGroup, aggr: str, suffix: str, as_rate: bool) -> float | None:
        if suffix == "":
            if aggr not in _PERCENTILES:
                raise ValueError(f"Unsupported aggregator {aggr!r} for a distribution")
            seconds = group.p95 if aggr == "p95" else group.p99
            return None if seconds is None else seconds * _TIME_UNITS[self.latency_unit]
        per_second = group.hits_per_second if suffix == "hits" else group.errors_per_second
        if aggr != "sum":
            raise ValueError("Count metrics are queried with sum:")
        if per_second == 0 and suffix == "errors":
            return None
        return per_second if as_rate else per_second * INTERVAL_SECONDS

    def _series(
        self,
        *,
        index: int,
        query: str,
        tag_set: list[str],
        value: float,
        suffix: str,
        start: int,
        end: int,
    ) -> dict[str, object]:
        unit = None
        if suffix == "":
            unit = [{"family": "time", "name": self.latency_unit, "scale_factor": 1.0}, None]
        return {
            "metric": query.split(":", 1)[1].split("{", 1)[0],
            "display_name": query,
            "expression": query,
            "query_index": index,
            "aggr": query.split(":", 1)[0],
            "scope": ",".join(tag_set) or "*",
            "tag_set": tag_set,
            "pointlist": _points(value, start, end),
            "start": start * 1000,
            "end": end * 1000,
            "interval": INTERVAL_SECONDS,
            "length": 0,
            "unit": unit,
        }


def split_queries(text: str) -> list[str]:
    """Split on the commas that separate queries, not those inside {...} or (...)."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if not text or any(not part.strip() for part in parts):
        raise ValueError("Error parsing query: empty query")
    return [part.strip() for part in parts]


def _parse(query: str) -> dict[str, str | None]:
    match = _QUERY.match(query)
    if match is None:
        raise ValueError(f"Error parsing query: {query!r}")
    return match.groupdict()


def _split_metric(metric: str) -> tuple[str, str]:
    if not metric.startswith("trace."):
        return metric, ""
    name = metric.removeprefix("trace.")
    for suffix in ("hits", "errors"):
        if name.endswith("." + suffix):
            return name.removesuffix("." + suffix), suffix
    return name, ""


def _parse_scope(scope: str) -> dict[str, set[str]]:
    terms = [t.strip() for part in scope.split(" AND ") for t in _split_top(part)]
    allowed: dict[str, set[str]] = {}
    for term in terms:
        in_match = _IN_TERM.match(term)
        if in_match:
            values = {v.strip() for v in in_match["values"].split(",")}
            allowed[in_match["tag"]] = values
        elif ":" in term:
            tag, value = term.split(":", 1)
            allowed[tag] = {value}
        elif term != "*":
            raise ValueError(f"Error parsing scope term {term!r}")
    return allowed


def _split_top(part: str) -> list[str]:
    return [p for p in re.split(r",(?![^()]*\))", part) if p.strip()]


def _in_scope(tags: dict[str, str], scope: dict[str, set[str]]) -> bool:
    return all(tags.get(tag) in values for tag, values in scope.items())


def _window(request: web.Request) -> tuple[int, int]:
    try:
        start, end = int(request.query["from"]), int(request.query["to"])
    except (KeyError, ValueError):
        raise ValueError("Both 'from' and 'to' must be integer epoch seconds") from None
    if start >= end:
        raise ValueError("'from' must be before 'to'")
    return start, end


def _points(value: float, start: int, end: int) -> list[list[float | None]]:
    """Alternating 0.8x and 1.2x around `value` (so the mean is exact), plus one gap."""
    count = max(2, (end - start) // INTERVAL_SECONDS)
    count += count % 2
    points: list[list[float | None]] = [
        [float((start + i * INTERVAL_SECONDS) * 1000), value * (0.8 if i % 2 else 1.2)]
        for i in range(count)
    ]
    points.append([float(end * 1000), None])
    return points
