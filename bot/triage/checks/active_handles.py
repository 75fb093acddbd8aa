"""Active handles: sockets, timers and files held open; a steady climb means they pile up."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckSkipped, finding
from bot.triage.checks.growth import GrowthParams, climbs
from bot.triage.checks.units import percent, rounded


class ActiveHandlesParams(GrowthParams):
    warn_growth: float = Field(default=0.5, gt=0)
    crit_growth: float = Field(default=2.0, gt=0)
    min_increase: float = Field(default=50, ge=0)
    min_r_squared: float = Field(default=0.6, ge=0, le=1)


ADVICE = (
    "Open handles keep growing: connections, timers or file descriptors are created faster "
    "than they are closed. Look for outbound calls without a concurrency limit, missing "
    "timeouts, keep-alive agents without maxSockets, and listeners or intervals never cleared."
)


class ActiveHandles(CheckKind[ActiveHandlesParams]):
    kind = "active_handles"
    params_model = ActiveHandlesParams

    def signals(self, params: ActiveHandlesParams) -> set[Signal]:
        return {Signal.ACTIVE_HANDLES}

    def evaluate(self, params: ActiveHandlesParams, ctx: CheckContext) -> list[Finding]:
        points = ctx.points(Signal.ACTIVE_HANDLES)
        line = stats.trend(points)
        if line is None:
            raise CheckSkipped("too few samples in the window to see a trend")
        first, last, growth = line.first, line.last, line.growth
        climbing = climbs(line, params.min_r_squared, params.min_increase)
        summary = f"active handles {first:.0f} -> {last:.0f} ({percent(growth)})"
        return [
            finding(
                "active_handles",
                params.severity(growth, climbing),
                summary + (", climbing" if climbing else ""),
                ADVICE,
                query=ctx.query(Signal.ACTIVE_HANDLES),
                observed={
                    "start": rounded(first, 1),
                    "end": rounded(last, 1),
                    "growth": rounded(growth, 3),
                    "peak": max(stats.values(points), default=None),
                    "climbing": "yes" if climbing else "no",
                },
                threshold={
                    "warn_growth": params.warn_growth,
                    "crit_growth": params.crit_growth,
                    "min_increase": params.min_increase,
                },
                charts={"handles": points},
                unit="handles",
            )
        ]
