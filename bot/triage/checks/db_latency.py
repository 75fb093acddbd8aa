"""Database operation latency as the service's client measures it."""

from __future__ import annotations

from pydantic import PositiveFloat

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckSkipped,
    SustainedParams,
    finding,
    grade,
)
from bot.triage.checks.units import ms, rounded, scaled


class DbLatencyParams(SustainedParams):
    warn_ms: PositiveFloat = 100
    crit_ms: PositiveFloat = 500


ADVICE = (
    "Queries themselves are slow. Run EXPLAIN (ANALYZE) on the heaviest statements and add "
    "the missing indexes, remove N+1 query patterns (batch or join instead), and send heavy "
    "reads to a replica or a cache with a TTL."
)


class DbLatency(CheckKind[DbLatencyParams]):
    kind = "db_latency"
    params_model = DbLatencyParams

    def signals(self, params: DbLatencyParams) -> set[Signal]:
        return {Signal.DB_OP_P99}

    def evaluate(self, params: DbLatencyParams, ctx: CheckContext) -> list[Finding]:
        points = ctx.points(Signal.DB_OP_P99)
        p99 = params.sustained(points)
        if p99 is None:
            raise CheckSkipped("no database operations in the window")
        severity = grade(p99, params.warn_ms / 1000, params.crit_ms / 1000)
        return [
            finding(
                "db_op_latency",
                severity,
                f"database operations p99 {ms(p99)}",
                ADVICE,
                query=ctx.query(Signal.DB_OP_P99),
                observed={"p99_ms": rounded(p99 * 1000 if p99 is not None else None, 1)},
                threshold={"warn_ms": params.warn_ms, "crit_ms": params.crit_ms},
                charts={"p99_ms": scaled(points, 1000)},
                unit="ms",
            )
        ]
