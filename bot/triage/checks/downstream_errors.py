"""Per-dependency error ratio: failed or 5xx outbound calls."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade
from bot.triage.checks.dependencies import levels, per_dependency
from bot.triage.checks.units import percent, rounded, scaled


class DownstreamErrorsParams(SustainedParams):
    warn_ratio: float = Field(default=0.05, gt=0, le=1)
    crit_ratio: float = Field(default=0.2, gt=0, le=1)
    min_rate: float = Field(default=0.05, ge=0)


ADVICE = (
    "A dependency is failing calls. Check its status and recent deploys; on your side retry "
    "only idempotent calls with backoff and a cap, and open a circuit breaker so failures "
    "answer quickly instead of holding requests."
)


class DownstreamErrors(CheckKind[DownstreamErrorsParams]):
    kind = "downstream_errors"
    params_model = DownstreamErrorsParams

    def signals(self, params: DownstreamErrorsParams) -> set[Signal]:
        return {Signal.DOWNSTREAM_ERROR_RATIO, Signal.DOWNSTREAM_RATE}

    def evaluate(self, params: DownstreamErrorsParams, ctx: CheckContext) -> list[Finding]:
        deps = per_dependency(ctx, Signal.DOWNSTREAM_ERROR_RATIO, params.sustained_share)
        rates = levels(ctx, Signal.DOWNSTREAM_RATE, 0.5)
        busy = [dep for dep in deps if rates.get(dep.name, params.min_rate) >= params.min_rate]
        if not busy:
            return []
        worst = busy[0]
        severity = grade(worst.level, params.warn_ratio, params.crit_ratio)
        rate = rates.get(worst.name)
        summary = f"{worst.name}: {percent(worst.level)} of calls fail"
        if rate is not None:
            summary += f" ({rate:.1f} calls/s)"
        return [
            finding(
                "downstream_errors",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.DOWNSTREAM_ERROR_RATIO),
                observed={
                    "dependency": worst.name,
                    "error_ratio": rounded(worst.level, 4),
                    "calls_per_second": rounded(rate, 3),
                },
                threshold={"warn_ratio": params.warn_ratio, "crit_ratio": params.crit_ratio},
                charts={dep.name: scaled(dep.points, 100) for dep in busy[:3]},
                unit="%",
            )
        ]
