"""Garbage collection: the share of wall time the process spends collecting."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade, settled
from bot.triage.checks.units import ms, percent, rounded, scaled


class GcTimeParams(SustainedParams):
    warn_ratio: float = Field(default=0.08, gt=0, lt=1)
    crit_ratio: float = Field(default=0.2, gt=0, lt=1)


ADVICE = (
    "Collections take a large share of the process's time, and every pause stops the event "
    "loop. Reduce allocation in hot paths (fewer short-lived objects, no large string or "
    "Buffer concatenation per request), check whether the heap is near its limit, and only "
    "then consider a larger --max-old-space-size."
)


class GcTime(CheckKind[GcTimeParams]):
    kind = "gc_time"
    params_model = GcTimeParams

    def signals(self, params: GcTimeParams) -> set[Signal]:
        return {Signal.GC_TIME_RATIO, Signal.GC_PAUSE_P99}

    def evaluate(self, params: GcTimeParams, ctx: CheckContext) -> list[Finding]:
        points = settled(ctx.points(Signal.GC_TIME_RATIO), ctx.window)
        ratio = params.sustained(points)
        severity = grade(ratio, params.warn_ratio, params.crit_ratio)
        pause = params.sustained(ctx.optional_points(Signal.GC_PAUSE_P99))
        summary = f"GC takes {percent(ratio)} of the time"
        if pause is not None:
            summary += f", pauses p99 {ms(pause)}"
        return [
            finding(
                "gc_time",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.GC_TIME_RATIO),
                observed={
                    "ratio": rounded(ratio, 4),
                    "pause_p99_ms": rounded(pause * 1000 if pause is not None else None, 1),
                },
                threshold={"warn_ratio": params.warn_ratio, "crit_ratio": params.crit_ratio},
                charts={"gc_percent": scaled(points, 100)},
                unit="%",
            )
        ]
