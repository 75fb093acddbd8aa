"""Database calls per request, from metrics: the N+1 pattern shows as a high or rising ratio."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind
from bot.triage.checks.per_request import PerRequestParams, per_request
from bot.triage.checks.units import rounded

ADVICE = (
    "Each request makes many database round trips, the mark of an N+1 pattern (a query per "
    "item of a list, often an ORM's lazy loading). Load related rows in one query: a join, "
    "`WHERE id = ANY($1)`, DataLoader-style batching or eager loading (Prisma `include`, "
    "Drizzle relations)."
)


class DbCallsParams(PerRequestParams):
    warn_calls_per_request: float = Field(default=10, gt=0)
    crit_calls_per_request: float = Field(default=30, gt=0)
    rising_factor: float = Field(default=3, gt=1)
    min_request_rate: float = Field(default=0.2, ge=0)


class DbCallsPerRequest(CheckKind[DbCallsParams]):
    kind = "db_calls_per_request"
    params_model = DbCallsParams

    def signals(self, params: DbCallsParams) -> set[Signal]:
        return {Signal.DB_OP_RATE, Signal.REQUEST_RATE}

    def evaluate(self, params: DbCallsParams, ctx: CheckContext) -> list[Finding]:
        quiet = "too little traffic to relate database calls to requests"
        found = per_request(ctx, Signal.DB_OP_RATE, params, quiet)
        quarter = max(1, len(found.ratios) // 4)
        early = stats.quantile(stats.values(found.ratios[:quarter]), 0.5) or 0.0
        late = stats.quantile(stats.values(found.ratios[-quarter:]), 0.5) or 0.0
        rising = late >= params.rising_factor * max(early, 1e-9)
        rising = rising and late >= params.warn_calls_per_request / 2
        severity = found.grade()
        if severity == "info" and rising:
            severity = "warn"
        summary = f"{found.level:.1f} database calls per request"
        if rising:
            summary += f", up from {early:.1f} at the start of the window"
        observed = {"early": rounded(early, 2), "late": rounded(late, 2)}
        return [found.finding("db_calls_per_request", severity, summary, ADVICE, observed)]
