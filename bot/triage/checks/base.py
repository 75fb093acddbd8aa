"""What every check kind provides, and the context it is evaluated in.

A check kind is a class with a pydantic parameter model (its YAML contract), the signals it
reads, and a pure `evaluate` that turns fetched series into findings. Adding one is a module
in this package plus one line in `checks/__init__.py`::

    class QueueDepthParams(SustainedParams):
        warn: float = 100
        crit: float = 1000

    class QueueDepth(CheckKind[QueueDepthParams]):
        kind = "queue_depth"
        params_model = QueueDepthParams

        def signals(self, params):
            return {Signal.INFLIGHT_REQUESTS}

        def evaluate(self, params, ctx):
            level = params.sustained(ctx.points(Signal.INFLIGHT_REQUESTS)) or 0.0
            severity = grade(level, params.warn, params.crit)
            return [finding("queue_depth", severity, f"{level:.0f} queued", ADVICE, ...)]

Shapes several kinds share: `SustainedParams` (a level held by a share of the window) and
`ApmCheck` (reads the APM backend) here; next to this module `growth` (a series that keeps
climbing), `per_request` (a rate divided by the inbound request rate),
`pg_common.DatabaseCheck` (reads the database evidence) and `units` (ms, percent, MiB).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.models import (
    Change,
    DownstreamStat,
    EndpointStat,
    Evidence,
    Finding,
    SeriesPoint,
    Severity,
)
from bot.sources.base import RangeSeries
from bot.sources.postgres.model import DatabaseEvidence
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.source import Fetched
from bot.triage.window import Window


class CheckParams(BaseModel):
    """Base of every parameter model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SustainedParams(CheckParams):
    """For checks that judge the level held by a share of the window, not a one-off peak."""

    sustained_share: float = Field(default=0.25, gt=0, le=1)

    def sustained(self, points: stats.Points) -> float | None:
        """The level held by `sustained_share` of the points."""
        return stats.sustained(stats.values(points), self.sustained_share)


ParamsT = TypeVar("ParamsT", bound=CheckParams)


class CheckUnknown(Exception):
    """The check could not reach a verdict; the message says why (shown to the user)."""


class CheckSkipped(Exception):
    """The service does not export what the check reads; not a failure, just not measured."""


@dataclass(frozen=True)
class Targets:
    """The service's objectives from the catalog; None where the catalog is silent."""

    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    availability_percent: float | None = None
    pool_size: int | None = None


@dataclass(frozen=True)
class ApmView:
    """What an APM backend said, or why it could not say anything."""

    endpoints: Sequence[EndpointStat] = ()
    downstreams: Sequence[DownstreamStat] = ()
    problem: str | None = None


@dataclass(frozen=True)
class CheckContext:
    service: str
    window: Window
    data: Fetched
    targets: Targets = field(default_factory=Targets)
    apm: ApmView | None = None
    database: DatabaseEvidence | None = None  # None: the catalog names no database
    pod_label: str = "pod"  # the label naming an instance's pod, where series carry one
    deploys: tuple[Change, ...] = ()  # deploy events sent to the bot for this service
    _combined: dict[str, stats.Points] = field(default_factory=dict, repr=False, compare=False)

    def series(self, signal: Signal | str) -> list[RangeSeries]:
        """Every series for the key, or `CheckSkipped`/`CheckUnknown` when there are none."""
        key = str(signal)
        problem = self.data.problem(key)
        if problem is None:
            return [one for one in self.data.get(key) if one.points]
        if key in self.data.failures:
            raise CheckUnknown(f"{key}: {problem}")
        raise CheckSkipped(f"{key}: {problem}")

    def points(self, signal: Signal | str) -> stats.Points:
        """One series for the service: the worst instance at each timestamp."""
        key = str(signal)
        if key not in self._combined:
            self._combined[key] = stats.combine(self.series(signal), max)
        return self._combined[key]

    def total(self, signal: Signal | str) -> stats.Points:
        """One series for the service: a rate summed over its instances."""
        return stats.combine(self.series(signal), stats.total)

    def optional_total(self, signal: Signal | str) -> stats.Points:
        return stats.combine(self.optional_series(signal), stats.total)

    def optional_points(self, signal: Signal | str) -> stats.Points:
        try:
            return self.points(signal)
        except (CheckSkipped, CheckUnknown):
            return []

    def optional_series(self, signal: Signal | str) -> list[RangeSeries]:
        try:
            return self.series(signal)
        except (CheckSkipped, CheckUnknown):
            return []

    def apm_view(self) -> ApmView:
        """The APM answer, or `CheckSkipped`/`CheckUnknown` when there is none."""
        if self.apm is None:
            raise CheckSkipped("no APM backend is configured for this service")
        if self.apm.problem is not None:
            raise CheckUnknown(self.apm.problem)
        return self.apm

    def query(self, *signals: Signal | str) -> str:
        return "\n".join(self.data.queries.get(str(s), "") for s in signals).strip()


class CheckKind(ABC, Generic[ParamsT]):
    kind: ClassVar[str]
    params_model: ClassVar[type[CheckParams]]

    @abstractmethod
    def signals(self, params: ParamsT) -> set[Signal]:
        """Signals this check reads; the engine fetches a step's signals together."""

    def custom_queries(self, params: ParamsT) -> Mapping[str, str]:
        """Operator-written PromQL templates by name (only the generic kind has any)."""
        return {}

    def uses_apm(self, params: ParamsT) -> bool:
        return False

    def uses_database(self, params: ParamsT) -> bool:
        """Whether the check reads the database evidence (gathered once per triage)."""
        return False

    @abstractmethod
    def evaluate(self, params: ParamsT, ctx: CheckContext) -> list[Finding]:
        """Findings for this check; raise `CheckUnknown` or `CheckSkipped` if it cannot tell."""


class ApmCheck(CheckKind[ParamsT]):
    """A check that reads the APM backend's answer (and, unless it says so, no signal)."""

    def signals(self, params: ParamsT) -> set[Signal]:
        return set()

    def uses_apm(self, params: ParamsT) -> bool:
        return True


def finding(
    code: str,
    severity: Severity,
    summary: str,
    advice: str = "",
    *,
    query: str = "",
    observed: Mapping[str, float | str | None] | None = None,
    threshold: Mapping[str, float] | None = None,
    charts: Mapping[str, stats.Points] | None = None,
    unit: str = "",
) -> Finding:
    """Build a finding; chart series are cut down to a size a chart can show.

    Advice is for findings that call for action: an `info` finding carries none.
    """
    series: dict[str, list[SeriesPoint]] = {
        name: stats.downsample(points) for name, points in (charts or {}).items()
    }
    evidence = Evidence(
        query=query,
        observed=dict(observed or {}),
        threshold=dict(threshold or {}),
        series=series,
        unit=unit,
    )
    advice = advice if severity != "info" else ""
    return Finding(code=code, severity=severity, summary=summary, evidence=evidence, advice=advice)


def grade(
    value: float | None, warn: float, crit: float, *, higher_is_worse: bool = True
) -> Severity:
    """info / warn / crit for a value against two thresholds."""
    if value is None:
        return "info"
    if not higher_is_worse:
        value, warn, crit = -value, -warn, -crit
    if value >= crit:
        return "crit"
    if value >= warn:
        return "warn"
    return "info"


def settled(points: stats.Points, window: Window) -> stats.Points:
    """A counter's rate with the readings of a series younger than its rate range corrected.

    Prometheus divides a rate by the whole range even when the series began inside it, so
    for a process that started within the window the first readings understate CPU and GC
    time by the share of the range it has existed. Each such reading is scaled by the range
    over the longest the series can have existed (it may have begun up to one step before
    its first point), which still never overstates the rate.
    """
    clean = stats.finite(points)
    if not clean or clean[0][0] <= window.start + window.step:
        return clean
    span = _range_seconds(window.rate_window)
    born = clean[0][0] - window.step
    return [(t, v * max(1.0, span / (t - born))) for t, v in clean]


def _range_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units.get(text[-1], 1)
