"""Service error ratio (5xx answers) held against the availability objective."""

from __future__ import annotations

from pydantic import Field

from bot.grading import Grading, error_budget
from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade
from bot.triage.checks.units import percent, rounded, scaled


class SloErrorsParams(SustainedParams):
    min_warn_ratio: float = Field(default=0.01, gt=0, le=1)
    crit_ratio: float = Field(default=0.05, gt=0, le=1)
    min_request_rate: float = Field(default=0.05, ge=0)


ADVICE = (
    "The service is answering with server errors. Read the error logs for the failing "
    "routes and compare with the last deploy; if a dependency fails too, start there."
)


class SloErrors(CheckKind[SloErrorsParams]):
    kind = "slo_errors"
    params_model = SloErrorsParams

    def signals(self, params: SloErrorsParams) -> set[Signal]:
        return {Signal.ERROR_RATIO, Signal.REQUEST_RATE}

    def evaluate(self, params: SloErrorsParams, ctx: CheckContext) -> list[Finding]:
        points = ctx.points(Signal.ERROR_RATIO)
        ratio = params.sustained(points) or 0.0
        rate = stats.quantile(stats.values(ctx.optional_total(Signal.REQUEST_RATE)), 0.5)
        budget = error_budget(ctx.targets.availability_percent)
        grading = Grading(
            errors_warn_ratio=params.min_warn_ratio, errors_crit_ratio=params.crit_ratio
        )
        warn, crit = grading.error_thresholds(ctx.targets.availability_percent)
        quiet = rate is not None and rate < params.min_request_rate
        severity = "info" if quiet else grade(ratio, warn, crit)
        summary = f"{percent(ratio)} of requests fail"
        if rate is not None:
            summary += f" at {rate:.1f} req/s"
        if budget is not None:
            summary += f" (error budget {percent(budget)})"
        return [
            finding(
                "service_errors",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.ERROR_RATIO),
                observed={"error_ratio": rounded(ratio, 4), "requests_per_second": rounded(rate)},
                threshold={"warn_ratio": warn, "crit_ratio": crit},
                charts={"error_percent": scaled(points, 100)},
                unit="%",
            )
        ]
