"""The service's heaviest statements from pg_stat_statements, and a cheap one run per item.

Also the one place that says why there is no database evidence: not configured (and what a
connection would add), or the problem that stopped it, as one line.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.postgres.model import DatabaseEvidence, StatementStat
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckParams, finding, grade
from bot.triage.checks.pg_common import DatabaseCheck, describe, quoted
from bot.triage.checks.units import rounded

NOT_CONFIGURED = (
    "No database connection is configured for this service: with `database: {dsn_env: …}` "
    "in its catalog entry the bot would also name its heaviest statements, their query "
    "plans and missing indexes, lock waits and transactions left open."
)
REPEATED_ADVICE = (
    "One cheap statement runs once per item instead of once per request: the N+1 pattern "
    "of lazy loading. Fetch the rows together (a join, `WHERE id = ANY($1)` with the ids "
    "collected first, DataLoader-style batching, or the ORM's eager loading such as "
    "Prisma's `include`): every round trip adds latency and a pool checkout."
)


class PgStatementsParams(CheckParams):
    shown: int = Field(default=3, ge=1, le=10)
    warn_calls_per_request: float = Field(default=5, gt=0)
    crit_calls_per_request: float = Field(default=20, gt=0)
    max_rows_per_call: float = Field(default=2, gt=0)
    max_mean_ms: float = Field(default=5, gt=0)


class PgStatements(DatabaseCheck[PgStatementsParams]):
    kind = "pg_statements"
    params_model = PgStatementsParams

    def signals(self, params: PgStatementsParams) -> set[Signal]:
        return {Signal.REQUEST_RATE}

    def evaluate(self, params: PgStatementsParams, ctx: CheckContext) -> list[Finding]:
        evidence = ctx.database
        if evidence is None:
            return [finding("db_evidence_off", "info", NOT_CONFIGURED)]
        if evidence.problem is not None:
            summary = f"Database evidence unavailable: {evidence.problem}"
            return [finding("db_evidence_problem", "info", summary)]
        request_rate = _request_rate(ctx)
        found = [_overview(params, evidence, request_rate)]
        repeated = _repeated(params, evidence, request_rate)
        return found + ([repeated] if repeated else [])


def _overview(
    params: PgStatementsParams, evidence: DatabaseEvidence, request_rate: float | None
) -> Finding:
    heaviest = sorted(evidence.statements, key=lambda s: s.total_ms, reverse=True)[: params.shown]
    over = f"over {evidence.span_s:g} s ({evidence.source})"
    if heaviest:
        listed = "; ".join(f"{quoted(s.text)} ({describe(s, evidence)})" for s in heaviest)
        summary = f"Most database time {over}: {listed}"
        summary += _other_rankings(evidence, request_rate, {s.queryid for s in heaviest})
    else:
        summary = f"No statement of the service ran {over}"
    if evidence.notes:
        summary += ". " + "; ".join(evidence.notes)
    top = heaviest[0] if heaviest else None
    return finding(
        "db_top_statements",
        "info",
        summary,
        observed={
            "span_s": evidence.span_s,
            "statements": len(evidence.statements),
            "top_statement": top.text if top else None,
            "top_share": rounded(evidence.share(top), 3) if top else None,
            "statements_run": evidence.statements_run,
            "elapsed_ms": evidence.elapsed_ms,
        },
    )


def _other_rankings(
    evidence: DatabaseEvidence, request_rate: float | None, listed: set[str]
) -> str:
    """The slowest statement on average and the one called most per request, when those are
    not already among the heaviest."""
    text = ""
    slowest = max(evidence.statements, key=lambda s: s.mean_ms)
    if slowest.queryid not in listed:
        text += f". Slowest on average: {quoted(slowest.text)} ({describe(slowest, evidence)})"
    busiest = max(evidence.statements, key=lambda s: s.calls)
    if busiest.queryid not in listed and busiest.queryid != slowest.queryid:
        rate = busiest.calls / evidence.span_s if evidence.span_s else 0.0
        per = f"{rate / request_rate:.1f} per request" if request_rate else f"{rate:.1f} calls/s"
        text += f". Called most: {quoted(busiest.text)} ({per})"
    return text


def _request_rate(ctx: CheckContext) -> float | None:
    """Requests per second lately (the last quarter of the window), for calls per request."""
    points = ctx.optional_total(Signal.REQUEST_RATE)
    recent = stats.values(points[-max(1, len(points) // 4) :])
    return stats.quantile(recent, 0.5)


def _repeated(
    params: PgStatementsParams, evidence: DatabaseEvidence, request_rate: float | None
) -> Finding | None:
    if not request_rate or not evidence.span_s:
        return None
    cheap = [
        s
        for s in evidence.statements
        if s.rows_per_call <= params.max_rows_per_call and s.mean_ms <= params.max_mean_ms
    ]
    if not cheap:
        return None
    worst = max(cheap, key=lambda s: s.calls)
    per_request = worst.calls / evidence.span_s / request_rate
    severity = grade(per_request, params.warn_calls_per_request, params.crit_calls_per_request)
    if severity == "info":
        return None
    return finding(
        "db_repeated_statement",
        severity,
        f"{quoted(worst.text)} runs {per_request:.0f} times per request, "
        f"{_rows(worst)} each at {worst.mean_ms:.2f} ms: a lookup repeated per item",
        REPEATED_ADVICE,
        observed={
            "statement": worst.text,
            "calls_per_request": rounded(per_request, 1),
            "rows_per_call": rounded(worst.rows_per_call, 2),
            "mean_ms": rounded(worst.mean_ms, 3),
            "requests_per_second": rounded(request_rate, 2),
        },
        threshold={
            "warn_calls_per_request": params.warn_calls_per_request,
            "crit_calls_per_request": params.crit_calls_per_request,
        },
    )


def _rows(statement: StatementStat) -> str:
    rows = statement.rows_per_call
    return "about one row" if 0.5 <= rows <= 1.5 else f"{rows:.1f} rows"
