"""Heap growth: a live heap that only ever rises over the window points at a leak."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckParams,
    CheckSkipped,
    finding,
    grade,
    mebibytes,
    percent,
    rounded,
)


class HeapGrowthParams(CheckParams):
    warn_growth: float = Field(default=0.15, gt=0)
    crit_growth: float = Field(default=0.4, gt=0)
    min_r_squared: float = Field(default=0.7, ge=0, le=1)
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
        rise_mib = (line.last - line.first) / 1_048_576
        steady = (
            line.r_squared >= params.min_r_squared
            and jump < params.max_jump_share
            and rise_mib >= params.min_rise_mib
        )
        severity = grade(growth, params.warn_growth, params.crit_growth) if steady else "info"
        first, last = line.first, line.last
        summary = f"heap used {mebibytes(first)} -> {mebibytes(last)} ({percent(growth)} change"
        summary += ", steady climb)" if steady and growth > 0 else ")"
        per_minute = line.slope_per_second * 60 / 1_048_576
        return [
            finding(
                "heap_growth",
                severity,
                summary,
                ADVICE if severity != "info" else "",
                query=ctx.query(Signal.HEAP_USED),
                observed={
                    "start_mib": rounded(first / 1_048_576 if first else None, 1),
                    "end_mib": rounded(last / 1_048_576 if last else None, 1),
                    "growth": rounded(growth, 3),
                    "mib_per_minute": rounded(per_minute, 3),
                    "r_squared": rounded(line.r_squared, 3),
                    "largest_jump_share": rounded(jump, 3),
                },
                threshold={
                    "warn_growth": params.warn_growth,
                    "crit_growth": params.crit_growth,
                    "min_rise_mib": params.min_rise_mib,
                },
                charts={"heap_used_mib": [(t, v / 1_048_576) for t, v in heap]},
                unit="MiB",
            )
        ]
