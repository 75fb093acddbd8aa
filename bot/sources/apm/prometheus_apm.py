"""APM views derived from the HTTP histograms a Node.js service already exports to Prometheus.

Endpoints come from the server histogram grouped by route (prom-client's
`http_request_duration_seconds{route}`, OpenTelemetry's `http_server_request_duration{http_route}`
or the older `http_server_duration` in milliseconds); downstreams from the client histogram
grouped by peer (`server_address`, with `server_port` where OpenTelemetry sets it). Which
families exist and how errors are marked come from bot/sources/nodejs_conventions.py.

Each question is one instant query: every candidate family's statistics, each tagged with a
`__apm__` label and joined with `or`, so the answer splits back per family and statistic. The
first family (detected convention first) that has series answers.

    backend = BACKENDS["prometheus"](ApmBackendOptions(session=session, metrics=caller))
    target = ApmTarget(service="checkout", selector={"job": "checkout"})
    slowest = await backend.slowest_endpoints(target, 600)
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ApmBackendOptions,
    ApmTarget,
    ApmUnavailable,
    check_query_arguments,
    slowest_first,
)
from bot.sources.base import InstantSample, MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import conventions_in_order
from bot.sources.nodejs_conventions import CONVENTIONS, HttpFamily
from bot.sources.promql import Expr, duration, matchers_from, tagged_union
from bot.sources.recipes import Recipe, Scope

TAG = "__apm__"
UNLABELLED = "(unlabelled)"
ENDPOINT_STATS = ("p95", "p99", "rate", "errors")
DOWNSTREAM_STATS = ("p99", "rate", "errors")
_SPACES = re.compile(r"\s+")

Row = dict[str, float]


@dataclass(frozen=True)
class _Part:
    family: HttpFamily
    stat: str


class PrometheusApm:
    """Slowest endpoints and downstreams of a service, computed from its Prometheus histograms.

    `querier` enforces its own per-request timeout and concurrency cap (give it the triage's
    capped caller); `timeout_seconds` bounds each question as a whole, retries included.
    """

    name = "prometheus"

    def __init__(
        self,
        querier: MetricsQuerier,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        metric_names: frozenset[str] | None = None,
    ) -> None:
        self._querier = querier
        self._timeout = timeout_seconds
        self._names = metric_names

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]:
        check_query_arguments(window_seconds, limit)
        families = candidate_families(server=True, names=self._names)
        rows = await self._ask(service, window_seconds, families, ENDPOINT_STATS)
        stats = [
            EndpointStat(
                name=name,
                p95=_latency(row.get("p95")),
                p99=_latency(row.get("p99")),
                rate=_rate(row.get("rate")),
                error_rate=_ratio(row.get("errors")),
            )
            for name, row in rows.items()
        ]
        return slowest_first([s for s in stats if s.rate > 0 or s.p99 is not None], limit)

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]:
        check_query_arguments(window_seconds, limit)
        families = candidate_families(server=False, names=self._names)
        rows = await self._ask(service, window_seconds, families, DOWNSTREAM_STATS)
        stats = [
            DownstreamStat(
                name=name,
                p99=_latency(row.get("p99")),
                rate=_rate(row.get("rate")),
                error_rate=_ratio(row.get("errors")),
            )
            for name, row in rows.items()
        ]
        return slowest_first([s for s in stats if s.rate > 0 or s.p99 is not None], limit)

    async def _ask(
        self,
        target: ApmTarget,
        window_seconds: int,
        families: Sequence[HttpFamily],
        stats: Sequence[str],
    ) -> dict[str, Row]:
        if not families:
            return {}
        selector = target.selector if target.selector is not None else {"job": target.service}
        scope = Scope(matchers_from(selector), duration(float(window_seconds)))
        parts = {
            f"{index}/{stat}": _Part(family, stat)
            for index, family in enumerate(families)
            for stat in stats
        }
        query = tagged_union({tag: _expression(part, scope) for tag, part in parts.items()}, TAG)
        samples = await self._instant(query)
        return rows_of_first_family(samples, parts, families)

    async def _instant(self, query: Expr) -> list[InstantSample]:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._querier.query(query.text)
        except TimeoutError:
            raise ApmUnavailable(f"Prometheus did not answer within {self._timeout:g} s.") from None
        except MetricsUnavailable as error:
            raise ApmUnavailable(_sentence(str(error))) from None


def candidate_families(*, server: bool, names: frozenset[str] | None) -> list[HttpFamily]:
    """HTTP families to ask about, detected convention first; only existing ones if `names`."""
    ordered = conventions_in_order(names) if names else CONVENTIONS
    families: list[HttpFamily] = []
    for convention in ordered:
        for family in convention.server_http if server else convention.client_http:
            exists = names is None or family.buckets in names
            if exists and family not in families:
                families.append(family)
    return families


def _expression(part: _Part, scope: Scope) -> Expr:
    family, keys = part.family, part.family.keys
    recipes: dict[str, Recipe] = {
        "p95": family.quantile(0.95, keys),
        "p99": family.quantile(0.99, keys),
        "rate": family.rate(keys),
        "errors": family.error_ratio(keys),
    }
    return recipes[part.stat].build(scope)


def rows_of_first_family(
    samples: list[InstantSample], parts: Mapping[str, _Part], families: Sequence[HttpFamily]
) -> dict[str, Row]:
    """Statistics per route or peer name, from the first family in `families` that answered."""
    by_family: dict[HttpFamily, dict[str, Row]] = defaultdict(lambda: defaultdict(dict))
    for sample in samples:
        part = parts.get(sample.labels.get(TAG, ""))
        if part is not None:
            name = _name(sample.labels, part.family.keys)
            by_family[part.family][name][part.stat] = sample.value
    for family in families:
        if family in by_family:
            return dict(by_family[family])
    return {}


def _name(labels: Mapping[str, str], keys: Sequence[str]) -> str:
    values = [labels[key] for key in keys if labels.get(key)]
    return ":".join(values) or UNLABELLED


def _latency(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _rate(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) and value > 0 else 0.0


def _ratio(value: float | None) -> float | None:
    return min(1.0, max(0.0, value)) if value is not None and math.isfinite(value) else None


def _sentence(message: str) -> str:
    """One line, naming Prometheus, ending with a full stop."""
    text = _SPACES.sub(" ", message).strip().rstrip(".")
    if "Prometheus" not in text:
        text = f"Prometheus: {text}"
    return text + "."


def from_options(options: ApmBackendOptions) -> PrometheusApm:
    """Registry factory: needs `metrics`, the PromQL endpoint (a triage's capped caller)."""
    if options.metrics is None:
        raise ApmUnavailable(
            "Prometheus is not configured: set PROMETHEUS_URL to derive APM views from metrics."
        )
    return PrometheusApm(
        options.metrics,
        timeout_seconds=options.timeout_seconds,
        metric_names=options.metric_names,
    )
