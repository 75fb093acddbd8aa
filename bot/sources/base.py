"""What the triage engine, the digest and the commands need from a metrics backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MetricsUnavailable(Exception):
    """The metrics backend could not be reached or refused the query; the message says why."""


class QueryRejected(MetricsUnavailable):
    """Prometheus answered but refused the query itself (a parse or execution error).

    The backend is up: other queries may well succeed, so callers retry the rest one by one
    instead of treating this as an outage.
    """


@dataclass(frozen=True)
class InstantSample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class RangeSeries:
    labels: dict[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)


class MetricsQuerier(Protocol):
    """A PromQL endpoint. Implementations enforce their own timeouts and concurrency caps."""

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]: ...

    async def query_range(
        self, expr: str, *, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]: ...

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        """Names of metrics that exist for the selector (used for convention detection)."""
        ...
