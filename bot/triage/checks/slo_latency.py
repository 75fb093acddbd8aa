"""Service latency (p95 and p99 at the edge) held against the catalog's objectives."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from bot.grading import Grading
from bot.models import Finding, Severity
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext, CheckKind, CheckSkipped, SustainedParams, finding
from bot.triage.checks.units import ms, rounded, scaled


class SloLatencyParams(SustainedParams):
    default_p99_ms: PositiveFloat = 1000
    crit_factor: float = Field(default=2.0, gt=1)


ADVICE = (
    "Latency is over the objective. The next steps of this checklist say where the time "
    "goes: a blocked event loop, waiting for the database, or a slow dependency."
)


class SloLatency(CheckKind[SloLatencyParams]):
    kind = "slo_latency"
    params_model = SloLatencyParams

    def signals(self, params: SloLatencyParams) -> set[Signal]:
        return {Signal.LATENCY_P95, Signal.LATENCY_P99}

    def evaluate(self, params: SloLatencyParams, ctx: CheckContext) -> list[Finding]:
        targets = {
            "p95": ctx.targets.p95_ms,
            "p99": ctx.targets.p99_ms or (None if ctx.targets.p95_ms else params.default_p99_ms),
        }
        signals = {"p95": Signal.LATENCY_P95, "p99": Signal.LATENCY_P99}
        observed: dict[str, float | str | None] = {}
        worst_ratio, parts, charts = 0.0, [], {}
        for name, signal in signals.items():
            points = ctx.optional_points(signal)
            level = params.sustained(points)
            if level is None:
                continue
            charts[name] = scaled(points, 1000)
            observed[f"{name}_ms"] = rounded(level * 1000, 1)
            target = targets[name]
            text = f"{name} {ms(level)}"
            if target:
                worst_ratio = max(worst_ratio, level * 1000 / target)
                text += f" (objective {target:.0f} ms)"
            parts.append(text)
        if not parts:
            ctx.points(Signal.LATENCY_P99)  # raises with the reason
            raise CheckSkipped("no latency series")
        grade = Grading(latency_crit_factor=params.crit_factor).over_objective(worst_ratio)
        severity: Severity = "info" if grade == "ok" else grade
        observed["over_objective"] = rounded(worst_ratio, 3)
        return [
            finding(
                "service_latency",
                severity,
                ", ".join(parts),
                ADVICE,
                query=ctx.query(Signal.LATENCY_P95, Signal.LATENCY_P99),
                observed=observed,
                threshold={f"{k}_ms": v for k, v in targets.items() if v},
                charts=charts,
                unit="ms",
            )
        ]
