"""Build a service's `SignalSource`: detect its metric convention, apply catalog overrides.

Detection asks Prometheus which metric names exist for the service's selector once, then
picks, per signal, the first recipe of the best-matching Node.js convention whose series all
exist. Catalog `metrics` overrides win over detection.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.catalog import Service
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.nodejs_conventions import OTEL, OTEL_SUFFIXED, PROM_CLIENT, Convention
from bot.sources.promql import Matcher, Selector, matchers_from
from bot.sources.recipes import Recipe, Scope
from bot.sources.signals import Signal
from bot.triage.prom_source import PrometheusSignalSource
from bot.triage.source import Failure, Fetched
from bot.triage.window import Window

CONVENTIONS = (PROM_CLIENT, OTEL, OTEL_SUFFIXED)


async def build_signal_source(
    querier: MetricsQuerier, service: Service
) -> PrometheusSignalSource | UnreachableSource:
    matchers = matchers_from(service.selector)
    try:
        names = await querier.series_names(dict(service.selector))
    except MetricsUnavailable as error:
        return UnreachableSource(str(Selector(None, matchers)), str(error))
    chosen = choose_recipes(names)
    overrides = {signal: _override(text, matchers) for signal, text in service.metrics.items()}

    def expressions(window: str) -> Mapping[Signal, str | None]:
        scope = Scope(matchers, window)
        built: dict[Signal, str | None] = {
            signal: recipe.build(scope).text for signal, recipe in chosen.items()
        }
        return {signal: overrides.get(signal) or built.get(signal) for signal in Signal}

    return PrometheusSignalSource(querier, expressions, matchers)


def choose_recipes(names: set[str]) -> dict[Signal, Recipe]:
    """Per signal, the first applicable recipe of the convention covering the most signals."""
    best: dict[Signal, Recipe] = {}
    for convention in CONVENTIONS:
        found = _applicable(convention, names)
        if len(found) > len(best):
            best = found
    return best


def _applicable(convention: Convention, names: set[str]) -> dict[Signal, Recipe]:
    found: dict[Signal, Recipe] = {}
    for signal, recipes in convention.recipes.items():
        for recipe in recipes:
            if recipe.required <= names:
                found[signal] = recipe
                break
    return found


def _override(text: str, matchers: tuple[Matcher, ...]) -> str:
    """A catalog override: a bare metric name becomes `max(name{selector})`, else a template."""
    if "$" in text or "(" in text or "{" in text:
        return text
    return f"max({Selector(text, matchers)})"


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
