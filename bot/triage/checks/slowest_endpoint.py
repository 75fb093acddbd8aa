"""The slowest server route by p99, from the APM backend, and whether it alone is slow."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from bot.models import EndpointStat, Finding, Severity
from bot.triage import series as stats
from bot.triage.checks.base import ApmCheck, CheckContext, CheckParams, CheckSkipped, finding
from bot.triage.checks.units import ms, percent, rounded


class SlowestEndpointParams(CheckParams):
    default_p99_ms: PositiveFloat = 1000
    crit_factor: float = Field(default=2.0, gt=1)
    dominance: float = Field(default=2.0, ge=1)
    min_rate: float = Field(default=0.01, ge=0)


ADVICE = (
    "One route is much slower than the rest. Trace a few slow requests on it to see whether "
    "the time goes to a query, a dependency or the handler's own code, and check what "
    "changed on that route recently."
)


class SlowestEndpoint(ApmCheck[SlowestEndpointParams]):
    kind = "slowest_endpoint"
    params_model = SlowestEndpointParams

    def evaluate(self, params: SlowestEndpointParams, ctx: CheckContext) -> list[Finding]:
        busy = [
            e for e in ctx.apm_view().endpoints if e.p99 is not None and e.rate >= params.min_rate
        ]
        if not busy:
            raise CheckSkipped("the APM backend reported no endpoint with traffic")
        ranked = sorted(busy, key=lambda e: -(e.p99 or 0.0))
        slowest = ranked[0]
        others = stats.quantile([e.p99 or 0.0 for e in ranked[1:]], 0.5)
        target_ms = ctx.targets.p99_ms or params.default_p99_ms
        over = (slowest.p99 or 0.0) * 1000 / target_ms
        stands_out = others is None or (slowest.p99 or 0.0) >= params.dominance * others
        severity: Severity = "info"
        if over > 1 and stands_out:
            severity = "crit" if over >= params.crit_factor else "warn"
        return [
            finding(
                "slowest_endpoint",
                severity,
                _summary(slowest, others),
                ADVICE,
                observed={
                    "endpoint": slowest.name,
                    "p99_ms": rounded((slowest.p99 or 0.0) * 1000, 1),
                    "p95_ms": rounded(slowest.p95 * 1000 if slowest.p95 else None, 1),
                    "others_median_p99_ms": rounded(others * 1000 if others else None, 1),
                    "requests_per_second": rounded(slowest.rate, 3),
                    "error_ratio": rounded(slowest.error_rate, 4),
                    "stands_out": "yes" if stands_out else "no",
                },
                threshold={"p99_ms": target_ms, "dominance": params.dominance},
                unit="ms",
            )
        ]


def _summary(slowest: EndpointStat, others: float | None) -> str:
    text = f"slowest endpoint {slowest.name}: p99 {ms(slowest.p99)} at {slowest.rate:.1f} req/s"
    if slowest.error_rate:
        text += f", {percent(slowest.error_rate)} errors"
    if others is not None:
        text += f" (other routes {ms(others)})"
    return text
