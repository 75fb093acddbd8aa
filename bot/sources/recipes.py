"""Ways to compute one signal from one metric family, each built with the PromQL builder.

A recipe names the exact series it needs (`required`) so detection can tell whether it applies,
and builds its expression for a service's matchers and a rate window. Aggregation follows the
signal's meaning: traffic is summed over the service, process-level readings report the worst
instance (`max` over `sum by (job, instance)`), per-downstream signals keep the downstream labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from bot.sources.promql import (
    Expr,
    Matcher,
    Selector,
    aggregate,
    binary,
    histogram_quantile,
    max_by,
    rate,
    scaled,
    sum_by,
)

INSTANCE = ("job", "instance")


@dataclass(frozen=True)
class Scope:
    """Where and over what window a recipe is evaluated."""

    matchers: tuple[Matcher, ...]
    window: str


class Recipe(Protocol):
    @property
    def required(self) -> frozenset[str]: ...

    def build(self, scope: Scope) -> Expr: ...

    def prefixed(self, prefix: str) -> Recipe:
        """The same recipe over metric names that carry `prefix` (a registry's name prefix)."""
        ...


Alternatives = tuple[tuple[Matcher, ...], ...]


def _selectors(metric: str, scope: Scope, where: Alternatives) -> list[Selector]:
    base = Selector(metric, scope.matchers)
    return [base.where(*extra) for extra in where] if where else [base]


def _either(parts: list[Expr]) -> Expr:
    combined = parts[0]
    for part in parts[1:]:
        combined = binary(combined, "or", part)
    return combined


@dataclass(frozen=True)
class InstanceGauge:
    """Worst instance of a gauge, summed within the instance (heap spaces, pool states)."""

    metric: str
    where: Alternatives = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.metric})

    def prefixed(self, prefix: str) -> InstanceGauge:
        return replace(self, metric=prefix + self.metric)

    def build(self, scope: Scope) -> Expr:
        series = _either([s.expr() for s in _selectors(self.metric, scope, self.where)])
        return max_by(sum_by(series, INSTANCE))


@dataclass(frozen=True)
class TotalGauge:
    """A gauge summed over the whole service, optionally kept per group."""

    metric: str
    by: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.metric})

    def prefixed(self, prefix: str) -> TotalGauge:
        return replace(self, metric=prefix + self.metric)

    def build(self, scope: Scope) -> Expr:
        return sum_by(Selector(self.metric, scope.matchers), self.by)


@dataclass(frozen=True)
class InstanceRate:
    """Worst instance of a counter's per-second rate (CPU seconds, GC seconds)."""

    metric: str

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.metric})

    def prefixed(self, prefix: str) -> InstanceRate:
        return replace(self, metric=prefix + self.metric)

    def build(self, scope: Scope) -> Expr:
        per_instance = sum_by(rate(Selector(self.metric, scope.matchers), scope.window), INSTANCE)
        return max_by(per_instance)


@dataclass(frozen=True)
class TotalRate:
    """Per-second rate of a counter (or a histogram's `_count`) over the service or per group."""

    metric: str
    by: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.metric})

    def prefixed(self, prefix: str) -> TotalRate:
        return replace(self, metric=prefix + self.metric)

    def build(self, scope: Scope) -> Expr:
        return sum_by(rate(Selector(self.metric, scope.matchers), scope.window), self.by)


@dataclass(frozen=True)
class Quantile:
    """A quantile from a classic histogram's `_bucket` series, scaled to seconds."""

    buckets: str
    quantile: float
    scale: float = 1.0
    by: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.buckets})

    def prefixed(self, prefix: str) -> Quantile:
        return replace(self, buckets=prefix + self.buckets)

    def build(self, scope: Scope) -> Expr:
        selector = Selector(self.buckets, scope.matchers)
        return scaled(
            histogram_quantile(self.quantile, selector, scope.window, self.by), self.scale
        )


@dataclass(frozen=True)
class ErrorRatio:
    """Share of counted events that are errors; 0 (not empty) when nothing failed."""

    counts: str
    errors: Alternatives
    by: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.counts})

    def prefixed(self, prefix: str) -> ErrorRatio:
        return replace(self, counts=prefix + self.counts)

    def build(self, scope: Scope) -> Expr:
        failing = [rate(s, scope.window) for s in _selectors(self.counts, scope, self.errors)]
        total = sum_by(rate(Selector(self.counts, scope.matchers), scope.window), self.by)
        ratio = binary(sum_by(_either(failing), self.by), "/", total)
        return binary(ratio, "or", binary(total, "*", 0))


@dataclass(frozen=True)
class PlainGauge:
    """A series that already holds the signal (a recording rule), reduced with `op`."""

    metric: str
    op: str = "max"
    by: tuple[str, ...] = ()

    @property
    def required(self) -> frozenset[str]:
        return frozenset({self.metric})

    def prefixed(self, prefix: str) -> PlainGauge:
        return replace(self, metric=prefix + self.metric)

    def build(self, scope: Scope) -> Expr:
        return aggregate(self.op, Selector(self.metric, scope.matchers), self.by)
