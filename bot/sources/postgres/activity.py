"""`pg_stat_activity`: the service's sessions, who waits on whose lock, who sits in a transaction.

    sample = await read_activity(session)
    mine = Sessions(sample, SessionFilter(application_name="checkout", role="checkout_app"))
    mine.lock_waits(), mine.idle_in_transaction(), mine.by_state()

One statement per sample; `pg_blocking_pids` is called only for sessions waiting on a lock.
Session texts are shown only in their `shown` form: `pg_stat_activity` has the statement as
the client sent it, literals included.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.sources.postgres.model import IdleTransaction, LockWait
from bot.sources.postgres.session import APPLICATION_NAME, Row, Session
from bot.sources.postgres.sqltext import printable, shown

_ACTIVITY = """/* triage-bot */
SELECT pid, usename::text AS user_name, application_name, state, wait_event_type,
    extract(epoch FROM clock_timestamp() - xact_start)::float8 AS transaction_s,
    extract(epoch FROM clock_timestamp() - state_change)::float8 AS state_s,
    CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blocked_by,
    query
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'"""
IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


@dataclass(frozen=True)
class SessionRow:
    pid: int
    user_name: str
    application_name: str
    state: str
    waiting_on_lock: bool
    transaction_s: float
    state_s: float
    blocked_by: tuple[int, ...]
    statement: str  # shown form

    @classmethod
    def from_row(cls, row: Row) -> SessionRow:
        return cls(
            pid=int(row["pid"]),
            user_name=str(row["user_name"] or ""),
            application_name=printable(str(row["application_name"] or "")),
            state=printable(str(row["state"] or "unknown")),
            waiting_on_lock=row["wait_event_type"] == "Lock",
            transaction_s=float(row["transaction_s"] or 0.0),
            state_s=float(row["state_s"] or 0.0),
            blocked_by=tuple(row["blocked_by"] or ()),
            statement=shown(str(row["query"] or "")),
        )


async def read_activity(session: Session) -> list[SessionRow]:
    async with session.reading():
        rows = await session.rows(_ACTIVITY)
    return [SessionRow.from_row(row) for row in rows]


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions are the service's: by application name and/or role; else all but ours."""

    application_name: str | None = None
    role: str | None = None

    def matches(self, row: SessionRow) -> bool:
        if self.application_name is not None and row.application_name != self.application_name:
            return False
        if self.role is not None and row.user_name != self.role:
            return False
        return row.application_name != APPLICATION_NAME


class Sessions:
    """The service's sessions in one sample, with every session at hand to name blockers."""

    def __init__(self, sample: Sequence[SessionRow], which: SessionFilter) -> None:
        self._all = {row.pid: row for row in sample}
        self.mine = [row for row in sample if which.matches(row)]

    def by_state(self) -> dict[str, int]:
        return dict(Counter(row.state for row in self.mine))

    def lock_waits(self) -> list[LockWait]:
        """Waiting sessions grouped by the session at the head of their wait, most waiters
        first. Sessions queued for the same lock block each other too, so a blocker that is
        itself waiting is followed to the one holding the lock."""
        waiting: dict[int, list[SessionRow]] = defaultdict(list)
        for row in self.mine:
            if row.waiting_on_lock and row.blocked_by:
                waiting[self._holder(row)].append(row)
        waits = [self._wait(pid, rows) for pid, rows in waiting.items()]
        return sorted(waits, key=lambda wait: (-wait.waiting, -wait.longest_wait_s))

    def _holder(self, row: SessionRow) -> int:
        """The blocking session that is not waiting itself (the oldest one if several)."""
        seen: set[int] = set()
        frontier = list(row.blocked_by)
        heads: list[SessionRow] = []
        while frontier:
            pid = frontier.pop()
            if pid in seen:
                continue
            seen.add(pid)
            blocker = self._all.get(pid)
            if blocker is not None and blocker.waiting_on_lock and blocker.blocked_by:
                frontier += blocker.blocked_by
            elif blocker is not None:
                heads.append(blocker)
        if not heads:
            return row.blocked_by[0]
        return max(heads, key=lambda blocker: blocker.transaction_s).pid

    def _wait(self, blocker_pid: int, waiters: list[SessionRow]) -> LockWait:
        longest = max(waiters, key=lambda row: row.state_s)
        blocker = self._all.get(blocker_pid)
        return LockWait(
            waiting=len(waiters),
            longest_wait_s=round(longest.state_s, 2),
            waiting_statement=longest.statement,
            blocker_pid=blocker_pid,
            blocker_application=blocker.application_name if blocker else "",
            blocker_state=blocker.state if blocker else "in another database",
            blocker_held_s=round(blocker.transaction_s, 2) if blocker else 0.0,
            blocker_statement=blocker.statement if blocker else "",
        )

    def idle_in_transaction(self) -> list[IdleTransaction]:
        idle = [row for row in self.mine if row.state in IDLE_IN_TRANSACTION]
        return [
            IdleTransaction(
                pid=row.pid,
                application=row.application_name,
                idle_s=round(row.state_s, 2),
                transaction_s=round(row.transaction_s, 2),
                statement=row.statement,
            )
            for row in sorted(idle, key=lambda row: -row.state_s)
        ]


def merge_waits(*samples: Sequence[LockWait]) -> list[LockWait]:
    """Lock waits from several samples: per blocker, the observation with the most waiters."""
    best: dict[int, LockWait] = {}
    for sample in samples:
        for wait in sample:
            kept = best.get(wait.blocker_pid)
            if kept is None or (wait.waiting, wait.longest_wait_s) > (
                kept.waiting,
                kept.longest_wait_s,
            ):
                best[wait.blocker_pid] = wait
    return sorted(best.values(), key=lambda wait: (-wait.waiting, -wait.longest_wait_s))
