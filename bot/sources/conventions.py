"""Which PromQL expression answers each `Signal` for a service, detected from its metric names.

    detector = ConventionDetector(prometheus_client)
    signals = await detector.signals_for(service.selector, service.metrics, window="1m")
    signals.convention                    # "prom-client", "otel", "otel-suffixed" or "unknown"
    signals.prefix                        # "shop_" for collectDefaultMetrics({ prefix: "shop_" })
    signals.expr(Signal.EVENTLOOP_LAG_P99)  # PromQL in seconds, or None when the service lacks it

Prometheus is asked once per selector which metric names exist (cached for `ttl` seconds, at
most `max_entries` selectors). A convention is also tried under every name prefix its process
metrics reveal, so a registry prefix needs no override. Catalog overrides win over detection:
a bare metric name is read the way the signal needs (rate of a counter, quantile of a
histogram, worst instance of a gauge); anything else is a template where `$selector` and
`$window` are substituted.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.sources.base import MetricsQuerier
from bot.sources.nodejs_conventions import (
    CONVENTIONS,
    DOWNSTREAM_LABELS,
    QUANTILES,
    Convention,
)
from bot.sources.promql import METRIC_NAME, duration, matchers_from, render_template
from bot.sources.recipes import (
    InstanceGauge,
    InstanceRate,
    PlainGauge,
    Quantile,
    Recipe,
    Scope,
    TotalGauge,
    TotalRate,
)
from bot.sources.signals import Signal

UNKNOWN = "unknown"
OVERRIDE = "override"
DEFAULT_TTL = 300.0
DEFAULT_MAX_ENTRIES = 256


@dataclass(frozen=True)
class ServiceSignals:
    """The expressions for one service and window; `origins` says where each came from."""

    convention: str
    window: str
    expressions: Mapping[Signal, str | None]
    origins: Mapping[Signal, str]
    prefix: str = ""

    def expr(self, signal: Signal) -> str | None:
        return self.expressions.get(signal)

    @property
    def available(self) -> frozenset[Signal]:
        return frozenset(s for s, e in self.expressions.items() if e is not None)


def detect_convention(names: set[str] | frozenset[str]) -> str:
    """The convention that can answer the most signals from `names` ("unknown" if none)."""
    found = detect(names)
    return found.name if found else UNKNOWN


def detect(names: set[str] | frozenset[str]) -> Convention | None:
    """The convention (under its prefix, if any) answering the most signals; first wins a tie."""
    best: Convention | None = None
    best_score = 0
    for convention in candidate_conventions(names):
        score = _coverage(convention, names)
        if score > best_score:
            best, best_score = convention, score
    return best


def conventions_in_order(names: set[str] | frozenset[str]) -> list[Convention]:
    """The detected convention first, then the plain ones, for signals it cannot answer."""
    found = detect(names)
    rest = [c for c in CONVENTIONS if found is None or c.name != found.name or found.prefix]
    return [found, *rest] if found else rest


def candidate_conventions(names: set[str] | frozenset[str]) -> list[Convention]:
    """Every convention as is, then under each name prefix its process metrics show."""
    found = list(CONVENTIONS)
    for convention in CONVENTIONS:
        found += [convention.prefixed(prefix) for prefix in _prefixes(convention, names)]
    return found


def _prefixes(convention: Convention, names: set[str] | frozenset[str]) -> list[str]:
    prefixes = {
        name[: -len(anchor)]
        for name in names
        for anchor in convention.anchors
        if len(name) > len(anchor) and name.endswith(anchor)
    }
    return sorted(prefixes)


def _coverage(convention: Convention, names: set[str] | frozenset[str]) -> int:
    return sum(
        any(recipe.required <= names for recipe in recipes)
        for recipes in convention.recipes.values()
    )


def resolve_signals(
    names: set[str] | frozenset[str],
    selector: Mapping[str, str],
    overrides: Mapping[Signal, str] | None = None,
    window: str | float = "1m",
) -> ServiceSignals:
    """Pick an expression per signal: override, then detected convention, then the others."""
    ordered = conventions_in_order(names)
    detected = detect(names)
    scope = Scope(matchers_from(selector), duration(window))
    expressions: dict[Signal, str | None] = {}
    origins: dict[Signal, str] = {}
    for signal in Signal:
        override = (overrides or {}).get(signal)
        if override is not None:
            expressions[signal] = _override_expr(signal, override, scope)
            origins[signal] = OVERRIDE
            continue
        found = _first_available(signal, ordered, names)
        expressions[signal] = found[1].build(scope).text if found else None
        origins[signal] = found[0] if found else UNKNOWN
    name = detected.name if detected else UNKNOWN
    prefix = detected.prefix if detected else ""
    return ServiceSignals(name, scope.window, expressions, origins, prefix)


def _first_available(
    signal: Signal, conventions: list[Convention], names: set[str] | frozenset[str]
) -> tuple[str, Recipe] | None:
    for convention in conventions:
        for recipe in convention.recipes.get(signal, ()):
            if recipe.required <= names:
                return convention.name, recipe
    return None


def _override_expr(signal: Signal, override: str, scope: Scope) -> str:
    if not METRIC_NAME.match(override):
        return render_template(override, scope.matchers, scope.window).text
    return bare_name_recipe(signal, override).build(scope).text


def bare_name_recipe(signal: Signal, metric: str) -> Recipe:
    """How a catalog override that is only a metric name is read for `signal`."""
    buckets = metric if metric.endswith("_bucket") else f"{metric}_bucket"
    if signal in QUANTILES:
        return Quantile(buckets, QUANTILES[signal])
    builders: dict[Signal, Callable[[], Recipe]] = {
        Signal.DB_OP_P99: lambda: Quantile(buckets, 0.99),
        Signal.DOWNSTREAM_P99: lambda: Quantile(buckets, 0.99, by=DOWNSTREAM_LABELS),
        Signal.REQUEST_RATE: lambda: TotalRate(metric),
        Signal.DB_OP_RATE: lambda: TotalRate(metric),
        Signal.DOWNSTREAM_RATE: lambda: TotalRate(metric, DOWNSTREAM_LABELS),
        Signal.CPU_CORES: lambda: InstanceRate(metric),
        Signal.GC_TIME_RATIO: lambda: InstanceRate(metric),
        Signal.INFLIGHT_REQUESTS: lambda: TotalGauge(metric),
        Signal.ERROR_RATIO: lambda: PlainGauge(metric),
        Signal.DOWNSTREAM_ERROR_RATIO: lambda: PlainGauge(metric, by=DOWNSTREAM_LABELS),
    }
    return builders.get(signal, lambda: InstanceGauge(metric))()


class _NameCache:
    """Metric names per selector, each kept for `ttl` seconds; least recently used leaves first."""

    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[tuple[str, str], ...], tuple[float, frozenset[str]]]
        self._entries = OrderedDict()

    def get(self, key: tuple[tuple[str, str], ...]) -> frozenset[str] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: tuple[tuple[str, str], ...], names: frozenset[str]) -> None:
        self._entries[key] = (self._clock() + self._ttl, names)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class ConventionDetector:
    """Detects each service's convention from Prometheus, caching metric names per selector.

    `querier` may be None when every lookup passes its own (`via=`), as the triage runner does.
    """

    def __init__(
        self,
        querier: MetricsQuerier | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._querier = querier
        self._cache = _NameCache(ttl, max_entries, clock)

    async def metric_names(
        self, selector: Mapping[str, str], *, via: MetricsQuerier | None = None
    ) -> frozenset[str]:
        """Names for the selector; an empty answer is not cached, so new services show up.

        `via` sends the lookup through another querier (a triage's capped caller, say) while
        the cache stays this detector's.
        """
        key = tuple(sorted(selector.items()))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        querier = via or self._querier
        if querier is None:
            raise ValueError("no querier: pass via= or give the detector one")
        names = frozenset(await querier.series_names(dict(selector)))
        if names:
            self._cache.put(key, names)
        return names

    async def signals_for(
        self,
        selector: Mapping[str, str],
        overrides: Mapping[Signal, str] | None = None,
        window: str | float = "1m",
        *,
        via: MetricsQuerier | None = None,
    ) -> ServiceSignals:
        names = await self.metric_names(selector, via=via)
        return resolve_signals(names, selector, overrides, window)

    @property
    def cached_selectors(self) -> int:
        return len(self._cache)
