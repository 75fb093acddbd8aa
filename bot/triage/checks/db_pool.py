"""Connection pool: how full it is and whether requests queue for a connection."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckSkipped,
    SustainedParams,
    finding,
    grade,
)
from bot.triage.checks.units import percent, rounded


class DbPoolParams(SustainedParams):
    usage_warn: float = Field(default=0.9, gt=0, le=1)
    pending_warn: float = Field(default=1, gt=0)
    pending_crit: float = Field(default=5, gt=0)


USAGE_ADVICE = (
    "Nearly every pooled connection is checked out. Find what holds connections long "
    "(slow queries, transactions left open across awaits, connections leaked on error "
    "paths) before resizing; then size the pool from metrics, typically 10 to 20 per process."
)
WAITING_ADVICE = (
    "Requests are waiting for a database connection, so their latency is queueing, not "
    "query time. Release connections promptly (always in finally blocks), shorten "
    "transactions, and raise the pool size only if the database has headroom."
)


class DbPool(CheckKind[DbPoolParams]):
    kind = "db_pool"
    params_model = DbPoolParams

    def signals(self, params: DbPoolParams) -> set[Signal]:
        return {Signal.DB_POOL_USED, Signal.DB_POOL_MAX, Signal.DB_POOL_PENDING}

    def evaluate(self, params: DbPoolParams, ctx: CheckContext) -> list[Finding]:
        used = ctx.optional_points(Signal.DB_POOL_USED)
        pending = ctx.optional_points(Signal.DB_POOL_PENDING)
        if not used and not pending:
            ctx.points(Signal.DB_POOL_USED)  # raises with the reason
            raise CheckSkipped("no pool series")
        return [self._usage(params, ctx, used), self._waiting(params, ctx, pending)]

    def _usage(self, params: DbPoolParams, ctx: CheckContext, used: stats.Points) -> Finding:
        size_points = stats.values(ctx.optional_points(Signal.DB_POOL_MAX))
        size = max(size_points) if size_points else ctx.targets.pool_size
        in_use = params.sustained(used)
        ratio = in_use / size if in_use is not None and size else None
        severity = grade(ratio, params.usage_warn, 1.01)
        text = f"{in_use:.0f} of {size:.0f} connections in use ({percent(ratio)})"
        if in_use is None or not size:
            text = "pool usage unknown (no size or no usage series)"
        return finding(
            "db_pool_usage",
            severity,
            text,
            USAGE_ADVICE,
            query=ctx.query(Signal.DB_POOL_USED, Signal.DB_POOL_MAX),
            observed={"in_use": rounded(in_use, 1), "size": size, "usage": rounded(ratio, 3)},
            threshold={"usage_warn": params.usage_warn},
            charts={"in_use": used},
            unit="connections",
        )

    def _waiting(self, params: DbPoolParams, ctx: CheckContext, pending: stats.Points) -> Finding:
        waiting = params.sustained(pending)
        peak = max(stats.values(pending), default=None)
        severity = grade(waiting, params.pending_warn, params.pending_crit)
        text = (
            "pool wait not measured"
            if waiting is None
            else f"{waiting:.0f} requests waiting for a connection (peak {peak:.0f})"
        )
        return finding(
            "db_pool_waiting",
            severity,
            text,
            WAITING_ADVICE,
            query=ctx.query(Signal.DB_POOL_PENDING),
            observed={"waiting": rounded(waiting, 1), "peak": peak},
            threshold={"pending_warn": params.pending_warn, "pending_crit": params.pending_crit},
            charts={"waiting": pending},
            unit="requests",
        )
