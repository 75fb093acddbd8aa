"""Heap growth: a live heap that only ever rises over the window points at a leak."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckSkipped, finding
from bot.triage.checks.growth import GrowthParams, climbs
from bot.triage.checks.units import MIB, mebibytes, percent, rounded, scaled


class HeapGrowthParams(GrowthParams):
    max_jump_share: float = Field(default=0.6, gt=0, le=1)
    # A process that just started warms its heap up by a few MiB (code, caches, pools):
    # relative growth alone would call that a leak, so a leak must also add this much.
    min_rise_mib: float = Field(default=24, ge=0)


ADVICE = (
    "The heap left after each collection keeps rising. Take three heap snapshots a few "
    "minutes apart and compare what grows: usual suspects are in-process caches without a "
    "size bound or TTL, event listeners that are never removed, closures that keep request "
    "objects alive, and streams not destroyed on error paths."
)


class HeapGrowth(CheckKind[HeapGrowthParams]):
    kind = "heap_growth"
    params_model = HeapGrowthParams

    def signals(self, params: HeapGrowthParams) -> set[Signal]:
        return {Signal.HEAP_USED, Signal.HEAP_TOTAL}

    def evaluate(self, params: HeapGrowthParams, ctx: CheckContext) -> list[Finding]:
        heap = ctx.points(Signal.HEAP_USED)
        line = stats.floor_trend(heap)
        if line is None:
            raise CheckSkipped("too few heap samples in the window to see a trend")
        growth = line.growth
        jump = stats.largest_rise_share(heap)
        steady = climbs(line, params.min_r_squared, params.min_rise_mib * MIB)
        steady = steady and jump < params.max_jump_share
        severity = params.severity(growth, steady)
        first, last = line.first, line.last
        summary = f"heap used {mebibytes(first)} -> {mebibytes(last)} ({percent(growth)} change"
        summary += ", steady climb)" if steady and growth > 0 else ")"
        return [
            finding(
                "heap_growth",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.HEAP_USED),
                observed={
                    "start_mib": rounded(first / MIB if first else None, 1),
                    "end_mib": rounded(last / MIB if last else None, 1),
                    "growth": rounded(growth, 3),
                    "mib_per_minute": rounded(line.slope_per_second * 60 / MIB, 3),
                    "r_squared": rounded(line.r_squared, 3),
                    "largest_jump_share": rounded(jump, 3),
                },
                threshold={
                    "warn_growth": params.warn_growth,
                    "crit_growth": params.crit_growth,
                    "min_rise_mib": params.min_rise_mib,
                },
                charts={"heap_used_mib": scaled(heap, 1 / MIB)},
                unit="MiB",
            )
        ]
