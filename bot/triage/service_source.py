"""Build a service's `SignalSource` from convention detection and the catalog's overrides.

    detector = ConventionDetector()              # one per runner: names cached per service
    wired = await wire_service(client.caller(cap=4), service, detector)
    wired.source, wired.metric_names             # names are None when Prometheus is down

Detection (bot/sources/conventions.py, the one place conventions are known) asks Prometheus
which metric names exist for the service's selector, through the triage's own querier so the
lookup counts against its cap; catalog `metrics` overrides win over what detection picks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from bot.catalog import Service
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import ConventionDetector, resolve_signals
from bot.sources.kubernetes import kubernetes_expressions, pod_scope
from bot.sources.promql import Selector, matchers_from
from bot.sources.signals import Signal
from bot.triage.prom_source import PrometheusSignalSource
from bot.triage.source import Failure, Fetched
from bot.triage.window import Window

# What a check that relies on Prometheus says once detection found it down; the reason itself
# is in the report's backend errors.
PROMETHEUS_DOWN = "Prometheus could not be reached (see the metrics backend problems)."


@dataclass(frozen=True)
class Wired:
    """A triage's signal source, and the metric names detection found (None: it failed)."""

    source: PrometheusSignalSource | UnreachableSource
    metric_names: frozenset[str] | None


async def wire_service(
    querier: MetricsQuerier, service: Service, detector: ConventionDetector | None = None
) -> Wired:
    """Detect the service's names through `querier`; without a `detector`, nothing is cached."""
    detector = detector or ConventionDetector()
    matchers = matchers_from(service.selector)
    try:
        names = await detector.metric_names(service.selector, via=querier)
    except MetricsUnavailable as error:
        return Wired(UnreachableSource(str(Selector(None, matchers)), str(error)), None)
    source = PrometheusSignalSource(querier, expressions_for(names, service), matchers)
    return Wired(source, names)


async def build_signal_source(
    querier: MetricsQuerier, service: Service, detector: ConventionDetector | None = None
) -> PrometheusSignalSource | UnreachableSource:
    """The source for one triage (see `wire_service`)."""
    return (await wire_service(querier, service, detector)).source


def expressions_for(
    names: frozenset[str], service: Service
) -> Callable[[str], Mapping[Signal, str | None]]:
    """Each signal's PromQL for a rate window, computed once per window."""
    by_window: dict[str, Mapping[Signal, str | None]] = {}

    def expressions(window: str) -> Mapping[Signal, str | None]:
        if window not in by_window:
            resolved = resolve_signals(
                names, service.selector, service.metrics, window, instance_labels(service)
            )
            by_window[window] = {
                **resolved.expressions,
                **_kubernetes(service, window),
                **_targets(service),
            }
        return by_window[window]

    return expressions


def _kubernetes(service: Service, window: str) -> Mapping[Signal, str]:
    """Kubernetes signals for the service, unless the catalog overrides them."""
    kubernetes = service.kubernetes
    scope = pod_scope(
        matchers_from(service.selector),
        window,
        kubernetes.namespace_label,
        kubernetes.pod_label,
        kubernetes.hpa or service.name,
    )
    found = kubernetes_expressions(scope)
    return {signal: expr for signal, expr in found.items() if signal not in service.metrics}


def _targets(service: Service) -> Mapping[Signal, str]:
    """Prometheus's `up` for the service's own targets (every exporter has it, unprefixed)."""
    if Signal.TARGET_UP in service.metrics:
        return {}
    return {Signal.TARGET_UP: str(Selector("up", matchers_from(service.selector)))}


def instance_labels(service: Service) -> tuple[str, ...]:
    """The labels, beyond job and instance, that tell the service's instances apart."""
    kubernetes = service.kubernetes
    return (kubernetes.namespace_label, kubernetes.pod_label)


class UnreachableSource:
    """Every fetch fails with the reason detection could not run (the backend is down)."""

    def __init__(self, selector: str, reason: str) -> None:
        self.selector = selector
        self._reason = reason

    async def fetch(
        self,
        signals: Collection[Signal],
        window: Window,
        custom: Mapping[str, str] | None = None,
    ) -> Fetched:
        keys = [signal.value for signal in signals]
        failure = Failure(self._reason, unreachable=True)
        return Fetched(failures=dict.fromkeys([*keys, *(custom or {})], failure))
