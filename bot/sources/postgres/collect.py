"""One service's database evidence for a triage: statements, plans, locks and idle transactions.

    evidence = ServiceEvidence(service.database, dsn)        # one per service, kept
    found = await evidence.collect(window_s=600)             # a DatabaseEvidence, never raises

The counters of `pg_stat_statements` are read twice. The first reading is the one a previous
triage of this service left, when it is younger than the window; otherwise the bot reads,
waits `sample_s`, and reads again. The session activity is sampled with each reading. The
top statements' generic plans are read last. All of it is bounded by `Limits.deadline_s`,
and whatever goes wrong becomes `DatabaseEvidence.problem`: one line, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from pydantic import SecretStr

from bot.sources.postgres.activity import (
    SessionFilter,
    SessionRow,
    Sessions,
    merge_waits,
    read_activity,
)
from bot.sources.postgres.config import DatabaseConfig
from bot.sources.postgres.model import DatabaseEvidence, StatementStat
from bot.sources.postgres.probe import read_probe
from bot.sources.postgres.problems import (
    Where,
    deadline_passed,
    dsn_missing,
    problem_from,
)
from bot.sources.postgres.scans import large_table_scans
from bot.sources.postgres.session import Database, Limits, Session
from bot.sources.postgres.sqltext import is_plannable_select, shown
from bot.sources.postgres.statements import (
    Change,
    Counters,
    Target,
    candidates,
    deltas,
    is_application_statement,
    read_counters,
    read_texts,
)

log = structlog.get_logger(__name__)
MIN_BASELINE_S = 5.0  # a previous reading younger than this is not worth the wait it saves


@dataclass(frozen=True)
class Sampling:
    sample_s: float = 0.5
    shown_per_ranking: int = 3
    max_plans: int = 3


@dataclass
class _Run:
    """What one collection has done so far (kept even when it fails part-way)."""

    started: float
    session: Session | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return self.session.statements if self.session else 0


@dataclass(frozen=True)
class _Readings:
    first: dict[int, Counters]
    second: dict[int, Counters]
    span_s: float
    activity: list[list[SessionRow]]


class ServiceEvidence:
    """Collects one service's evidence; see the module docstring."""

    def __init__(
        self,
        config: DatabaseConfig,
        dsn: SecretStr | None,
        *,
        limits: Limits | None = None,
        sampling: Sampling | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._dsn = dsn
        self.limits = limits or Limits()
        self.sampling = sampling or Sampling()
        self._clock = clock
        self._database: Database | None = None
        self._baseline: tuple[float, dict[int, Counters]] | None = None
        self._which = SessionFilter(config.application_name, config.role)

    async def collect(self, window_s: float) -> DatabaseEvidence:
        run = _Run(started=self._clock())
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                found = await self._gather(run, window_s)
        except TimeoutError:
            found = DatabaseEvidence(problem=deadline_passed(self.limits.deadline_s).line)
        except Exception as error:  # one line for the report, whatever the driver raised
            problem = problem_from(error, Where(env=self.config.dsn_env))
            if problem.kind == "failed":
                log.warning("database_evidence_failed", error_type=type(error).__name__)
            found = DatabaseEvidence(problem=problem.line)
        elapsed = round((self._clock() - run.started) * 1000)
        notes = (*found.notes, *run.notes)
        return found.model_copy(
            update={"statements_run": run.statements, "elapsed_ms": elapsed, "notes": notes}
        )

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()

    def _open(self) -> Database:
        if self._dsn is None:
            raise dsn_missing(self.config.dsn_env)
        if self._database is None:
            self._database = Database(self._dsn, self.config.dsn_env, self.limits)
        return self._database

    async def _gather(self, run: _Run, window_s: float) -> DatabaseEvidence:
        database = self._open()
        async with database.session() as session:
            run.session = session
            probe = await read_probe(session, self.config.role)
            target = Target(probe.statements_schema, probe.version, probe.role_oid)
            readings = await self._read_twice(session, target, window_s)
            changes = deltas(readings.first, readings.second)
            statements = await self._statements(session, target, changes, run)
            scans = await large_table_scans(
                session,
                version=probe.version,
                plannable=statements.plannable,
                max_plans=self.sampling.max_plans,
                notes=run.notes,
                user=probe.user_name,
            )
        latest = Sessions(readings.activity[-1], self._which)
        every = [Sessions(sample, self._which) for sample in readings.activity]
        return DatabaseEvidence(
            span_s=round(readings.span_s, 2),
            statements=statements.shown,
            total_ms=round(sum(c.total_ms for c in changes if c.queryid not in statements.own), 3),
            scans=tuple(scans),
            lock_waits=tuple(merge_waits(*(s.lock_waits() for s in every))),
            idle_in_transaction=tuple(latest.idle_in_transaction()),
            sessions=latest.by_state(),
        )

    async def _read_twice(self, session: Session, target: Target, window_s: float) -> _Readings:
        now = self._clock()
        activity = [await read_activity(session)]
        baseline = self._baseline
        if baseline is not None and MIN_BASELINE_S <= now - baseline[0] <= window_s:
            started, first = baseline
        else:
            async with session.reading():
                first = await read_counters(session, target)
            started = self._clock()
            await asyncio.sleep(max(0.0, self.sampling.sample_s - (self._clock() - now)))
            activity.append(await read_activity(session))
        async with session.reading():
            second = await read_counters(session, target)
        ended = self._clock()
        self._baseline = (ended, second)
        return _Readings(first, second, max(ended - started, 1e-3), activity)

    async def _statements(
        self, session: Session, target: Target, changes: list[Change], run: _Run
    ) -> _Statements:
        picked = candidates(changes, per_ranking=self.sampling.shown_per_ranking * 3)
        async with session.reading():
            texts = await read_texts(session, target, [c.queryid for c in picked])
        own = {c.queryid for c in picked if not is_application_statement(texts.get(c.queryid, ""))}
        kept = [c for c in picked if c.queryid not in own]
        shown_ones = candidates(kept, per_ranking=self.sampling.shown_per_ranking)
        if len(texts) < len(picked):
            run.notes.append("some statements were evicted from pg_stat_statements mid-sample")
        return _Statements(
            shown=tuple(_stat(c, texts.get(c.queryid, "")) for c in shown_ones),
            plannable=[
                (str(c.queryid), texts[c.queryid])
                for c in sorted(kept, key=lambda c: c.total_ms, reverse=True)
                if is_plannable_select(texts.get(c.queryid, "").strip().rstrip(";"))
            ],
            own=own,
        )


@dataclass(frozen=True)
class _Statements:
    shown: tuple[StatementStat, ...]
    plannable: list[tuple[str, str]]  # (queryid, normalised text), most total time first
    own: set[int]


def _stat(change: Change, text: str) -> StatementStat:
    return StatementStat(
        queryid=str(change.queryid),
        text=shown(text) if text else "(text no longer in pg_stat_statements)",
        calls=change.calls,
        total_ms=round(change.total_ms, 3),
        rows=change.rows,
        reads_only=is_plannable_select(text.strip().rstrip(";")),
    )
