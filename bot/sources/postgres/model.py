"""What the database evidence found for one service, as plain values the checks judge.

Every text here is already safe to show: statements are in their `shown` form (no literals,
no comments, truncated), and names are object names. Counts cover `span_s` seconds: the
sample the bot took, or the incident window when the counters came from postgres_exporter.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementStat(_Frozen):
    """One normalised statement's work during the span."""

    queryid: str
    text: str
    calls: float
    total_ms: float
    rows: float
    reads_only: bool = True

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    @property
    def rows_per_call(self) -> float:
        return self.rows / self.calls if self.calls else 0.0


class ScanOnLargeTable(_Frozen):
    """A sequential scan with a filter, in the generic plan of a statement from the top list."""

    queryid: str
    schema_name: str
    table: str
    columns: tuple[str, ...]
    rows: float
    size_bytes: int
    create_index: str
    existing_index: str | None = None


class LockWait(_Frozen):
    """The service's sessions waiting on a lock held by one blocking session."""

    waiting: int
    longest_wait_s: float
    waiting_statement: str
    blocker_pid: int
    blocker_application: str
    blocker_state: str
    blocker_held_s: float
    blocker_statement: str


class IdleTransaction(_Frozen):
    """A session of the service sitting inside an open transaction, doing nothing."""

    pid: int
    application: str
    idle_s: float
    transaction_s: float
    statement: str


class DatabaseEvidence(_Frozen):
    problem: str | None = None
    source: str = "pg_stat_statements"
    span_s: float = 0.0
    statements: tuple[StatementStat, ...] = ()
    total_ms: float = 0.0  # all of the service's statements in the span, not only the top ones
    scans: tuple[ScanOnLargeTable, ...] = ()
    lock_waits: tuple[LockWait, ...] = ()
    idle_in_transaction: tuple[IdleTransaction, ...] = ()
    sessions: dict[str, int] = Field(default_factory=dict)
    notes: tuple[str, ...] = ()
    statements_run: int = 0
    elapsed_ms: int = 0

    def statement(self, queryid: str) -> StatementStat | None:
        return next((s for s in self.statements if s.queryid == queryid), None)

    def share(self, statement: StatementStat) -> float:
        """The statement's share of the service's database time in the span."""
        return statement.total_ms / self.total_ms if self.total_ms else 0.0
