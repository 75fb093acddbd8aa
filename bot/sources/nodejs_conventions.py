"""Where Node.js services keep each signal, per metric naming convention.

- prom-client: its default metrics (under any `collectDefaultMetrics({ prefix })`, see
  `Convention.prefixed`) plus the usual `http_request_duration_seconds` histogram, whether
  hand-written, from express-prom-bundle (`path` label) or fastify-metrics (`route` label),
  and, as the lab services do, `http_client_request_duration_seconds` / `db_client_*`.
- OpenTelemetry JS through @opentelemetry/exporter-prometheus: semantic-convention names
  without unit suffixes, including the older `http_server_duration` family in milliseconds.
- The same OpenTelemetry names with unit suffixes (`_seconds`, `_bytes`, `_ratio`), as an
  OTLP collector or Prometheus's OTLP receiver writes them.

Each signal lists recipes in order of preference; the first whose series exist wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bot.sources.promql import Matcher
from bot.sources.recipes import (
    ErrorRatio,
    InstanceGauge,
    InstanceRate,
    Quantile,
    Recipe,
    TotalGauge,
    TotalRate,
)
from bot.sources.signals import Signal

QUANTILES = {Signal.LATENCY_P50: 0.5, Signal.LATENCY_P95: 0.95, Signal.LATENCY_P99: 0.99}
DOWNSTREAM_LABELS = ("server_address", "server_port")
LEGACY_DOWNSTREAM_LABELS = ("net_peer_name", "net_peer_port")
MILLIS = 0.001


@dataclass(frozen=True)
class HttpFamily:
    """One HTTP duration histogram as a convention exports it.

    `errors` lists matcher sets, any of which marks a failed request; `keys` are the labels
    naming one route (server side) or one peer (client side); `scale` turns it into seconds.
    """

    metric: str
    errors: tuple[tuple[Matcher, ...], ...]
    keys: tuple[str, ...]
    scale: float = 1.0

    @property
    def buckets(self) -> str:
        return f"{self.metric}_bucket"

    @property
    def count(self) -> str:
        return f"{self.metric}_count"

    def quantile(self, quantile: float, by: tuple[str, ...] = ()) -> Quantile:
        return Quantile(self.buckets, quantile, self.scale, by)

    def rate(self, by: tuple[str, ...] = ()) -> TotalRate:
        return TotalRate(self.count, by)

    def error_ratio(self, by: tuple[str, ...] = ()) -> ErrorRatio:
        return ErrorRatio(self.count, self.errors, by)

    def prefixed(self, prefix: str) -> HttpFamily:
        return replace(self, metric=prefix + self.metric)


@dataclass(frozen=True)
class Convention:
    """Recipes per signal, plus the HTTP families (in order of preference) they came from.

    `anchors` are the runtime metric names a registry prefix is recognised by: a service whose
    names include `shop_nodejs_eventloop_lag_p99_seconds` exports prom-client under `shop_`.
    """

    name: str
    recipes: Mapping[Signal, tuple[Recipe, ...]]
    server_http: tuple[HttpFamily, ...] = ()
    client_http: tuple[HttpFamily, ...] = ()
    anchors: frozenset[str] = field(default_factory=frozenset)
    prefix: str = ""

    def prefixed(self, prefix: str) -> Convention:
        """Every name under `prefix` first, the unprefixed names after: a registry prefix
        usually covers the default metrics while HTTP middleware keeps its own names."""
        if not prefix:
            return self
        recipes = {
            signal: (*(recipe.prefixed(prefix) for recipe in options), *options)
            for signal, options in self.recipes.items()
        }
        return replace(
            self,
            recipes=recipes,
            server_http=(*(f.prefixed(prefix) for f in self.server_http), *self.server_http),
            client_http=(*(f.prefixed(prefix) for f in self.client_http), *self.client_http),
            anchors=frozenset(prefix + name for name in self.anchors),
            prefix=prefix,
        )


def _server_http(family: HttpFamily) -> dict[Signal, Recipe]:
    recipes: dict[Signal, Recipe] = {
        Signal.REQUEST_RATE: family.rate(),
        Signal.ERROR_RATIO: family.error_ratio(),
    }
    for signal, quantile in QUANTILES.items():
        recipes[signal] = family.quantile(quantile)
    return recipes


def _client_http(family: HttpFamily) -> dict[Signal, Recipe]:
    return {
        Signal.DOWNSTREAM_RATE: family.rate(family.keys),
        Signal.DOWNSTREAM_P99: family.quantile(0.99, family.keys),
        Signal.DOWNSTREAM_ERROR_RATIO: family.error_ratio(family.keys),
    }


_PROCESS_SIGNALS = frozenset(
    {
        Signal.EVENTLOOP_LAG_P99,
        Signal.EVENTLOOP_LAG_MAX,
        Signal.CPU_CORES,
        Signal.HEAP_USED,
        Signal.RSS,
        Signal.GC_TIME_RATIO,
    }
)


def _anchors(runtime: Mapping[Signal, Recipe]) -> frozenset[str]:
    """The process metrics' names: what a default-metrics prefix would be put in front of."""
    return frozenset(
        name
        for signal, recipe in runtime.items()
        if signal in _PROCESS_SIGNALS
        for name in recipe.required
    )


def _merge(*tables: Mapping[Signal, Recipe]) -> dict[Signal, tuple[Recipe, ...]]:
    merged: dict[Signal, tuple[Recipe, ...]] = {}
    for table in tables:
        for signal, recipe in table.items():
            merged[signal] = (*merged.get(signal, ()), recipe)
    return merged


def _pool(count: str, state_label: str, max_: str, pending: str) -> dict[Signal, Recipe]:
    return {
        Signal.DB_POOL_USED: InstanceGauge(count, ((Matcher.eq(state_label, "used"),),)),
        Signal.DB_POOL_MAX: InstanceGauge(max_),
        Signal.DB_POOL_PENDING: InstanceGauge(pending),
    }


def _prom_client() -> Convention:
    runtime: dict[Signal, Recipe] = {
        Signal.EVENTLOOP_LAG_P99: InstanceGauge("nodejs_eventloop_lag_p99_seconds"),
        Signal.EVENTLOOP_LAG_MAX: InstanceGauge("nodejs_eventloop_lag_max_seconds"),
        Signal.CPU_CORES: InstanceRate("process_cpu_seconds_total"),
        Signal.HEAP_USED: InstanceGauge("nodejs_heap_size_used_bytes"),
        Signal.HEAP_TOTAL: InstanceGauge("nodejs_heap_size_total_bytes"),
        Signal.EXTERNAL_MEMORY: InstanceGauge("nodejs_external_memory_bytes"),
        Signal.RSS: InstanceGauge("process_resident_memory_bytes"),
        Signal.GC_TIME_RATIO: InstanceRate("nodejs_gc_duration_seconds_sum"),
        Signal.GC_PAUSE_P99: Quantile("nodejs_gc_duration_seconds_bucket", 0.99),
        Signal.ACTIVE_HANDLES: InstanceGauge("nodejs_active_handles_total"),
        Signal.INFLIGHT_REQUESTS: TotalGauge("http_requests_in_flight"),
        Signal.DB_OP_P99: Quantile("db_client_operation_duration_seconds_bucket", 0.99),
        Signal.DB_OP_RATE: TotalRate("db_client_operation_duration_seconds_count"),
    }
    # fastify-metrics and hand-written histograms label the route `route`; express-prom-bundle
    # labels it `path`. Grouping by both names a route whichever one the service sets.
    server = HttpFamily(
        "http_request_duration_seconds",
        ((Matcher.regex("status_code", "5.."),),),
        ("route", "path"),
    )
    client = HttpFamily(
        "http_client_request_duration_seconds",
        ((Matcher.regex("status_code", "5..|0"),),),
        ("server_address",),
    )
    return Convention(
        "prom-client",
        _merge(
            runtime,
            _server_http(server),
            _client_http(client),
            _pool(
                "db_client_connection_count",
                "state",
                "db_client_connection_max",
                "db_client_connection_pending_requests",
            ),
        ),
        server_http=(server,),
        client_http=(client,),
        anchors=_anchors(runtime),
    )


def _otel(name: str, suffixed: bool) -> Convention:
    sec, byte, ratio = ("_seconds", "_bytes", "_ratio") if suffixed else ("", "", "")
    runtime: dict[Signal, Recipe] = {
        Signal.EVENTLOOP_LAG_P99: InstanceGauge(f"nodejs_eventloop_delay_p99{sec}"),
        Signal.EVENTLOOP_LAG_MAX: InstanceGauge(f"nodejs_eventloop_delay_max{sec}"),
        Signal.EVENTLOOP_UTILIZATION: InstanceGauge(f"nodejs_eventloop_utilization{ratio}"),
        Signal.CPU_CORES: InstanceRate(f"process_cpu_time{sec}_total"),
        Signal.HEAP_USED: InstanceGauge(f"v8js_memory_heap_used{byte}"),
        Signal.HEAP_TOTAL: InstanceGauge(f"v8js_memory_heap_space_size{byte}"),
        Signal.RSS: InstanceGauge(f"process_memory_usage{byte}"),
        Signal.GC_TIME_RATIO: InstanceRate(f"v8js_gc_duration{sec}_sum"),
        Signal.GC_PAUSE_P99: Quantile(f"v8js_gc_duration{sec}_bucket", 0.99),
        Signal.INFLIGHT_REQUESTS: TotalGauge("http_server_active_requests"),
        Signal.DB_OP_P99: Quantile(f"db_client_operation_duration{sec}_bucket", 0.99),
        Signal.DB_OP_RATE: TotalRate(f"db_client_operation_duration{sec}_count"),
    }
    older_runtime: dict[Signal, Recipe] = {
        Signal.HEAP_TOTAL: InstanceGauge(f"v8js_memory_heap_limit{byte}"),
    }
    server, legacy_server, client, legacy_client = _otel_http(suffixed)
    return Convention(
        name,
        _merge(
            runtime,
            older_runtime,
            _server_http(server),
            _server_http(legacy_server),
            _client_http(client),
            _client_http(legacy_client),
            _pool(
                "db_client_connection_count",
                "db_client_connection_state",
                "db_client_connection_max",
                "db_client_connection_pending_requests",
            ),
            _pool(
                "db_client_connections_usage",
                "state",
                "db_client_connections_max",
                "db_client_connections_pending_requests",
            ),
        ),
        server_http=(server, legacy_server),
        client_http=(client, legacy_client),
        anchors=_anchors(runtime),
    )


def _otel_http(suffixed: bool) -> tuple[HttpFamily, HttpFamily, HttpFamily, HttpFamily]:
    """Current and older (milliseconds) semantic-convention server and client histograms."""
    sec, legacy_ms = ("_seconds", "_milliseconds") if suffixed else ("", "")
    route = ("http_route",)
    return (
        HttpFamily(
            f"http_server_request_duration{sec}",
            ((Matcher.regex("http_response_status_code", "5.."),),),
            route,
        ),
        HttpFamily(
            f"http_server_duration{legacy_ms}",
            ((Matcher.regex("http_status_code", "5.."),),),
            route,
            MILLIS,
        ),
        HttpFamily(
            f"http_client_request_duration{sec}",
            (
                (Matcher.regex("http_response_status_code", "5.."),),
                (Matcher.ne("error_type", ""),),
            ),
            DOWNSTREAM_LABELS,
        ),
        HttpFamily(
            f"http_client_duration{legacy_ms}",
            ((Matcher.regex("http_status_code", "5.."),),),
            LEGACY_DOWNSTREAM_LABELS,
            MILLIS,
        ),
    )


PROM_CLIENT = _prom_client()
OTEL = _otel("otel", suffixed=False)
OTEL_SUFFIXED = _otel("otel-suffixed", suffixed=True)
CONVENTIONS: tuple[Convention, ...] = (PROM_CLIENT, OTEL, OTEL_SUFFIXED)
