"""Connections leaked inside a transaction: the service's sessions idle in transaction too long."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.triage.checks.base import CheckContext, CheckParams, finding
from bot.triage.checks.pg_common import DatabaseCheck, evidence_of, quoted
from bot.triage.checks.units import ms

ADVICE = (
    "Connections are checked out and left inside an open transaction, typically by an error "
    "path that skips ROLLBACK and release(). Release clients in a `finally` block (or use "
    "pool.query for single statements), and set idle_in_transaction_session_timeout on the "
    "service's role so the server ends such sessions. Ending them now returns the "
    "connections: `SELECT pg_terminate_backend(pid)` for the pids listed in the evidence."
)


class PgSessionsParams(CheckParams):
    idle_warn_s: float = Field(default=5, gt=0)
    crit_sessions: int = Field(default=3, ge=1)
    crit_idle_s: float = Field(default=60, gt=0)


class PgSessions(DatabaseCheck[PgSessionsParams]):
    kind = "pg_sessions"
    params_model = PgSessionsParams

    def evaluate(self, params: PgSessionsParams, ctx: CheckContext) -> list[Finding]:
        evidence = evidence_of(ctx)
        stuck = [t for t in evidence.idle_in_transaction if t.idle_s >= params.idle_warn_s]
        if not stuck:
            states = ", ".join(f"{n} {state}" for state, n in sorted(evidence.sessions.items()))
            summary = (
                f"Service sessions: {states or 'none open'}; none idle inside a transaction "
                f"for {params.idle_warn_s:g} s or more"
            )
            return [finding("db_sessions", "info", summary)]
        oldest = stuck[0]
        many = len(stuck) >= params.crit_sessions or oldest.idle_s >= params.crit_idle_s
        sessions = "session sits" if len(stuck) == 1 else "sessions sit"
        summary = (
            f"{len(stuck)} {sessions} idle inside an open transaction, the oldest for "
            f"{ms(oldest.idle_s)}; last statement: {quoted(oldest.statement)}"
        )
        return [
            finding(
                "db_idle_in_transaction",
                "crit" if many else "warn",
                summary,
                ADVICE,
                observed={
                    "sessions": len(stuck),
                    "oldest_idle_s": oldest.idle_s,
                    "statement": oldest.statement,
                    "pids": ", ".join(str(t.pid) for t in stuck[:10]),
                },
                threshold={"idle_warn_s": params.idle_warn_s},
            )
        ]
