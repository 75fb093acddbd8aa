"""CPU throttling: the share of CFS periods in which the container hit its CPU quota.

Over a quarter of periods throttled means the limit, not the code, sets the pace: timers and
callbacks wait for the next period, which reads as event-loop lag and latency.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    SustainedParams,
    finding,
    grade,
    settled,
)
from bot.triage.checks.units import percent, rounded


class CpuThrottlingParams(SustainedParams):
    warn_share: float = Field(default=0.25, gt=0, le=1)
    crit_share: float = Field(default=0.5, gt=0, le=1)


ADVICE = (
    "The CPU limit is throttling the container: it uses its whole quota and then waits for "
    "the next period, and the event loop waits with it. Raise the CPU limit (at least one "
    "core for a Node.js process), or remove it and keep the request, before looking at the "
    "code."
)


class CpuThrottling(CheckKind[CpuThrottlingParams]):
    kind = "cpu_throttling"
    params_model = CpuThrottlingParams

    def signals(self, params: CpuThrottlingParams) -> set[Signal]:
        return {Signal.CPU_THROTTLED_RATIO, Signal.CPU_LIMIT_CORES, Signal.CONTAINER_CPU_CORES}

    def evaluate(self, params: CpuThrottlingParams, ctx: CheckContext) -> list[Finding]:
        throttled = ctx.points(Signal.CPU_THROTTLED_RATIO)  # skipped where cAdvisor is absent
        share = params.sustained(throttled) or 0.0
        worst = _most_throttled(ctx.series(Signal.CPU_THROTTLED_RATIO), params)
        limit = _median_of(ctx, Signal.CPU_LIMIT_CORES, worst)
        used = _median_of(ctx, Signal.CONTAINER_CPU_CORES, worst, rate=True)
        severity = grade(share, params.warn_share, params.crit_share)
        summary = f"throttled in {percent(share)} of CPU periods"
        if limit:
            summary += f" under a limit of {limit:.2g} cores"
        if used is not None:
            summary += f", using {used:.2f} cores"
        return [
            finding(
                "cpu_throttled",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.CPU_THROTTLED_RATIO, Signal.CPU_LIMIT_CORES),
                observed={
                    "throttled_share": rounded(share, 3),
                    "limit_cores": rounded(limit, 3),
                    "used_cores": rounded(used, 3),
                },
                threshold={"warn_share": params.warn_share, "crit_share": params.crit_share},
                charts={"throttled_share": throttled},
                unit="share",
            )
        ]


def _most_throttled(found: list[RangeSeries], params: CpuThrottlingParams) -> dict[str, str]:
    """The labels of the pod throttled the most: its limit and use are the ones to show."""

    def level(one: RangeSeries) -> float:
        return params.sustained(one.points) or 0.0

    return max(found, key=level).labels if found else {}


def _median_of(
    ctx: CheckContext, signal: Signal, labels: dict[str, str], *, rate: bool = False
) -> float | None:
    """The median of the series with these labels (the same pod), else of the worst pod; a
    rate is read settled, so a pod started inside the window is not shown using less."""
    mine = [one for one in ctx.optional_series(signal) if one.labels == labels]
    points = stats.combine(mine) if mine else ctx.optional_points(signal)
    if rate:
        points = settled(points, ctx.window)
    return stats.quantile(stats.values(points), 0.5)
