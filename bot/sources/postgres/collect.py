"""One service's database evidence for a triage: statements, plans, locks and idle transactions.

    evidence = ServiceEvidence(service.database, dsn)        # one per service, kept
    found = await evidence.collect(window_s=600)             # a DatabaseEvidence, never raises

Statement counters come from postgres_exporter's series over the whole window when the catalog
names them (`database.exporter`) and Prometheus answers; otherwise `pg_stat_statements` is
read twice: the first reading is the one the previous triage of this service left, when it
is younger than the window, else the bot reads, waits `sample_s` and reads again. Sessions
are sampled with each reading; the top statements' generic plans are read last. All of it is
bounded by `Limits.deadline_s`, and whatever goes wrong becomes `DatabaseEvidence.problem`:
one line, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from pydantic import SecretStr

from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.postgres.activity import (
    SessionFilter,
    SessionRow,
    Sessions,
    merge_waits,
    read_activity,
)
from bot.sources.postgres.config import DatabaseConfig
from bot.sources.postgres.exporter import exported_texts, exporter_matchers, window_changes
from bot.sources.postgres.model import DatabaseEvidence
from bot.sources.postgres.probe import Probe, read_probe
from bot.sources.postgres.problems import Where, deadline_passed, dsn_missing, problem_from
from bot.sources.postgres.ranking import rank
from bot.sources.postgres.scans import large_table_scans
from bot.sources.postgres.session import Database, Limits, Session
from bot.sources.postgres.statements import (
    Change,
    Counters,
    Target,
    candidates,
    deltas,
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


@dataclass(frozen=True)
class Metrics:
    """Where postgres_exporter's series can be read for this triage, and up to when."""

    querier: MetricsQuerier
    end: float


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
class _Counted:
    changes: list[Change]
    span_s: float
    activity: list[list[SessionRow]]
    source: str


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

    async def collect(self, window_s: float, metrics: Metrics | None = None) -> DatabaseEvidence:
        run = _Run(started=self._clock())
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                found = await self._gather(run, window_s, metrics)
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

    async def _gather(
        self, run: _Run, window_s: float, metrics: Metrics | None
    ) -> DatabaseEvidence:
        if self._dsn is None and self.config.exporter and metrics is not None:
            return await self._from_exporter_alone(run, window_s, metrics)
        database = self._open()
        async with database.session() as session:
            run.session = session
            probe = await read_probe(session, self.config.role)
            target = Target(probe.statements_schema, probe.version, probe.role_oid)
            counted = await self._count(
                session, target, probe, window_s=window_s, metrics=metrics, run=run
            )
            picked = candidates(counted.changes, self.sampling.shown_per_ranking * 3)
            async with session.reading():
                texts = await read_texts(session, target, [c.queryid for c in picked])
            ranked = rank(picked, texts, self.sampling.shown_per_ranking)
            scans = await large_table_scans(
                session,
                version=probe.version,
                plannable=ranked.plannable,
                max_plans=self.sampling.max_plans,
                notes=run.notes,
                user=probe.user_name,
            )
        every = [Sessions(sample, self._which) for sample in counted.activity]
        return DatabaseEvidence(
            source=counted.source,
            span_s=round(counted.span_s, 2),
            statements=ranked.shown,
            total_ms=ranked.total_ms(counted.changes),
            scans=tuple(scans),
            lock_waits=tuple(merge_waits(*(s.lock_waits() for s in every))),
            idle_in_transaction=tuple(every[-1].idle_in_transaction()),
            sessions=every[-1].by_state(),
        )

    async def _count(
        self,
        session: Session,
        target: Target,
        probe: Probe,
        *,
        window_s: float,
        metrics: Metrics | None,
        run: _Run,
    ) -> _Counted:
        """Window counters from the exporter when it is configured and answers, else a sample."""
        if self.config.exporter and metrics is not None:
            matchers = exporter_matchers(self.config.exporter, probe.database, self.config.role)
            try:
                changes = await window_changes(
                    metrics.querier, matchers, int(window_s), metrics.end
                )
            except MetricsUnavailable as error:
                note = f"postgres_exporter's series could not be read ({error}); sampled instead"
                run.notes.append(note)
            else:
                activity = [await read_activity(session)]
                return _Counted(changes, window_s, activity, "postgres_exporter")
        return await self._sample(session, target, window_s)

    async def _sample(self, session: Session, target: Target, window_s: float) -> _Counted:
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
        span = max(ended - started, 1e-3)
        return _Counted(deltas(first, second), span, activity, "pg_stat_statements")

    async def _from_exporter_alone(
        self, run: _Run, window_s: float, metrics: Metrics
    ) -> DatabaseEvidence:
        """Statements from the exporter's series only: no plans and no sessions without a DSN."""
        assert self.config.exporter is not None
        run.notes.append(dsn_missing(self.config.dsn_env).line + " (for plans, locks and sessions)")
        matchers = exporter_matchers(self.config.exporter, None, self.config.role)
        changes = await window_changes(metrics.querier, matchers, int(window_s), metrics.end)
        picked = candidates(changes, self.sampling.shown_per_ranking * 3)
        ids = [c.queryid for c in picked]
        texts = await exported_texts(metrics.querier, matchers, ids, metrics.end)
        ranked = rank(picked, texts, self.sampling.shown_per_ranking)
        return DatabaseEvidence(
            source="postgres_exporter",
            span_s=window_s,
            statements=ranked.shown,
            total_ms=ranked.total_ms(changes),
        )
