"""Lock contention: the service's sessions waiting on a lock, and the session holding it."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.postgres.model import LockWait
from bot.triage.checks.base import CheckContext, CheckParams, finding
from bot.triage.checks.pg_common import DatabaseCheck, evidence_of, quoted
from bot.triage.checks.units import ms


class PgLocksParams(CheckParams):
    crit_waiting: int = Field(default=5, ge=1)
    crit_wait_s: float = Field(default=5, gt=0)


def _advice(wait: LockWait) -> str:
    return (
        "A transaction keeps rows locked while it does slow work or waits on something "
        "outside the database. Keep transactions short (make slow calls before BEGIN or "
        "after COMMIT), take row locks in a consistent order, and give the application's "
        "role a lock_timeout so waiters fail fast instead of filling the pool. To free the "
        f"waiters now, end the blocking session: `SELECT pg_terminate_backend({wait.blocker_pid})`."
    )


class PgLocks(DatabaseCheck[PgLocksParams]):
    kind = "pg_locks"
    params_model = PgLocksParams

    def evaluate(self, params: PgLocksParams, ctx: CheckContext) -> list[Finding]:
        evidence = evidence_of(ctx)
        if not evidence.lock_waits:
            return [finding("db_locks", "info", "No session of the service waits on a lock")]
        wait = evidence.lock_waits[0]
        heavy = wait.waiting >= params.crit_waiting or wait.longest_wait_s >= params.crit_wait_s
        return [
            finding(
                "db_lock_waits",
                "crit" if heavy else "warn",
                _summary(wait, len(evidence.lock_waits)),
                _advice(wait),
                observed={
                    "waiting": wait.waiting,
                    "longest_wait_s": wait.longest_wait_s,
                    "waiting_statement": wait.waiting_statement,
                    "blocker_pid": wait.blocker_pid,
                    "blocker_state": wait.blocker_state,
                    "blocker_held_s": wait.blocker_held_s,
                    "blocker_statement": wait.blocker_statement,
                },
                threshold={"crit_waiting": params.crit_waiting, "crit_wait_s": params.crit_wait_s},
            )
        ]


def _summary(wait: LockWait, blockers: int) -> str:
    sessions = "session waits" if wait.waiting == 1 else "sessions wait"
    holder = f"pid {wait.blocker_pid}"
    if wait.blocker_application:
        holder += f" ({wait.blocker_application}, {wait.blocker_state})"
    text = (
        f"{wait.waiting} {sessions} up to {ms(wait.longest_wait_s)} in "
        f"{quoted(wait.waiting_statement)} for a lock held by {holder}, whose transaction has "
        f"been open {ms(wait.blocker_held_s)}; its last statement: "
        f"{quoted(wait.blocker_statement or 'unknown')}"
    )
    if blockers > 1:
        text += f" ({blockers - 1} more blocking session{'s' if blockers > 2 else ''})"
    return text
