"""Per-dependency latency, and whether one dependency accounts for most of the service's p99."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade
from bot.triage.checks.dependencies import per_dependency
from bot.triage.checks.units import ms, percent, rounded, scaled


class DownstreamLatencyParams(SustainedParams):
    warn_ms: PositiveFloat = 300
    crit_ms: PositiveFloat = 1000
    dominance_share: float = Field(default=0.5, gt=0, le=2)


ADVICE = (
    "One dependency sets the pace. Time each outbound call, give it a timeout shorter than "
    "your own latency budget, cache what can be cached, and add a circuit breaker or a "
    "fallback so a slow dependency degrades a feature instead of the whole service."
)


class DownstreamLatency(CheckKind[DownstreamLatencyParams]):
    kind = "downstream_latency"
    params_model = DownstreamLatencyParams

    def signals(self, params: DownstreamLatencyParams) -> set[Signal]:
        return {Signal.DOWNSTREAM_P99, Signal.LATENCY_P99}

    def evaluate(self, params: DownstreamLatencyParams, ctx: CheckContext) -> list[Finding]:
        deps = per_dependency(ctx, Signal.DOWNSTREAM_P99, params.sustained_share)
        if not deps:
            return []
        worst = deps[0]
        service_p99 = params.sustained(ctx.optional_points(Signal.LATENCY_P99))
        share = worst.level / service_p99 if service_p99 else None
        dominates = share is not None and share >= params.dominance_share
        severity = grade(worst.level, params.warn_ms / 1000, params.crit_ms / 1000)
        summary = f"slowest dependency {worst.name}: p99 {ms(worst.level)}"
        if dominates and service_p99:
            summary += f", {percent(min(share or 0, 1))} of the service p99 ({ms(service_p99)})"
        return [
            finding(
                "downstream_latency",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.DOWNSTREAM_P99),
                observed={
                    "dependency": worst.name,
                    "p99_ms": rounded(worst.level * 1000, 1),
                    "service_p99_ms": rounded(service_p99 * 1000 if service_p99 else None, 1),
                    "share_of_service_p99": rounded(share, 3),
                    "dominates": "yes" if dominates else "no",
                    "dependencies": len(deps),
                },
                threshold={
                    "warn_ms": params.warn_ms,
                    "crit_ms": params.crit_ms,
                    "dominance_share": params.dominance_share,
                },
                charts={dep.name: scaled(dep.points, 1000) for dep in deps[:3]},
                unit="ms",
            )
        ]
