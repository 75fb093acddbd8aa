"""CPU: one Node.js process runs JavaScript on one core, so ~1 busy core is its ceiling."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding, Severity
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckParams,
    CheckSkipped,
    finding,
    settled,
)
from bot.triage.checks.units import percent, rounded


class CpuSaturationParams(CheckParams):
    busy_cores: float = Field(default=0.9, gt=0, le=64)
    busy_utilization: float = Field(default=0.9, gt=0, le=1)
    busy_share: float = Field(default=0.8, gt=0, le=1)


ADVICE = (
    "The process is using all of its one JavaScript core most of the time. Profile to find "
    "the hot code; cache or precompute repeated work, move CPU-heavy tasks to worker threads, "
    "and scale out with more processes or pods rather than a bigger machine."
)


class CpuSaturation(CheckKind[CpuSaturationParams]):
    kind = "cpu_saturation"
    params_model = CpuSaturationParams

    def signals(self, params: CpuSaturationParams) -> set[Signal]:
        return {Signal.CPU_CORES, Signal.EVENTLOOP_UTILIZATION}

    def evaluate(self, params: CpuSaturationParams, ctx: CheckContext) -> list[Finding]:
        cores = settled(ctx.optional_points(Signal.CPU_CORES), ctx.window)
        utilization = ctx.optional_points(Signal.EVENTLOOP_UTILIZATION)
        if not cores and not utilization:
            ctx.points(Signal.CPU_CORES)  # raises with the reason
            raise CheckSkipped("no CPU or event-loop utilisation series")
        busy = _busy_share(cores, utilization, params)
        median_cores = stats.quantile(stats.values(cores), 0.5)
        median_elu = stats.quantile(stats.values(utilization), 0.5)
        severity: Severity = "warn" if busy >= params.busy_share else "info"
        summary = _summary(median_cores, median_elu, busy)
        return [
            finding(
                "cpu_busy",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.CPU_CORES, Signal.EVENTLOOP_UTILIZATION),
                observed={
                    "cores_median": rounded(median_cores, 3),
                    "cores_peak": rounded(max(stats.values(cores), default=None), 3),
                    "utilization_median": rounded(median_elu, 3),
                    "busy_share": rounded(busy, 3),
                },
                threshold={"busy_cores": params.busy_cores, "busy_share": params.busy_share},
                charts={"cores": cores, "utilization": utilization},
                unit="cores",
            )
        ]


def _busy_share(
    cores: stats.Points, utilization: stats.Points, params: CpuSaturationParams
) -> float:
    by_cores = stats.share_at_or_above(stats.values(cores), params.busy_cores)
    by_elu = stats.share_at_or_above(stats.values(utilization), params.busy_utilization)
    return max(by_cores, by_elu)


def _summary(cores: float | None, elu: float | None, busy: float) -> str:
    parts = []
    if cores is not None:
        parts.append(f"CPU {cores:.2f} cores (median)")
    if elu is not None:
        parts.append(f"event loop busy {percent(elu)} of the time")
    return ", ".join(parts) + f"; saturated in {percent(busy)} of samples"
