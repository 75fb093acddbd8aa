"""Triage for an incident: run it under a lease, show progress in the thread, attach charts.

A triage is registered in the store before it runs (once per opening of the incident, or again
when someone presses Re-run), then run by whichever replica holds its lease, renewed while it
runs. If that replica dies, the lease lapses and the sweeper every replica runs starts the
triage again elsewhere; its checklist message and charts carry stable ids, so the second run
edits the same checklist and never uploads a chart twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import structlog
from pydantic import BaseModel, ValidationError

from bot import telemetry
from bot.charts import MAX_CHARTS, chart_specs, render_png_async
from bot.incidents.model import Incident, TriageState
from bot.incidents.profile_post import post_profile
from bot.incidents.repository import IncidentRepository
from bot.incidents.thread import IncidentThread
from bot.models import PlannedStep, StepResult, TriageProgress, TriageReport
from bot.runtime.leases import Lease, kept
from bot.runtime.tasks import TaskTracker
from bot.sources.base import MetricsUnavailable
from bot.store import keys
from bot.store.base import LeaseStore, StoreUnavailable
from bot.store.keys import TRIAGE_LEASE_SECONDS, TRIAGE_RECORD_TTL_SECONDS, TRIAGE_WORK
from bot.triage.window import DEFAULT_WINDOW

log = structlog.get_logger(__name__)

SWEEP_SECONDS = 5.0

StepCallback = Callable[[StepResult], Awaitable[None]]
# Adds a profile of the process to a finished report when its diagnosis calls for one.
ProfileAttacher = Callable[[TriageReport], Awaitable[TriageReport]]


class TriageRunner(Protocol):
    """Runs the playbook for a catalog service (the same engine the CLI uses)."""

    def planned_steps(self) -> list[PlannedStep]: ...

    async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport: ...


class TriageJob(BaseModel):
    """One registered triage: which incident, over which window, and which run it is."""

    incident_id: str
    window: str
    trigger: Literal["incident", "button"]
    run: str


class IncidentTriage:
    def __init__(
        self,
        repository: IncidentRepository,
        runner: TriageRunner,
        tasks: TaskTracker,
        thread: IncidentThread,
        leases: LeaseStore,
        *,
        lease_seconds: float = TRIAGE_LEASE_SECONDS,
        profiles: ProfileAttacher | None = None,
    ) -> None:
        self._repo = repository
        self._profiles = profiles
        self._runner = runner
        self._tasks = tasks
        self._thread = thread
        self._leases = leases
        self._lease_seconds = lease_seconds
        self._here: set[str] = set()

    async def start(
        self, incident: Incident, window: str = DEFAULT_WINDOW, *, again: bool = False
    ) -> None:
        """Register and start the incident's triage once per opening (HA twins and retries
        included); `again` registers a fresh one, as the Re-run button asks."""
        if incident.service is None:
            log.info("no triage: the alert maps to no catalog service", incident=incident.id)
            return
        opening = incident.reopened_count
        job = TriageJob(
            incident_id=incident.id,
            window=window,
            trigger="button" if again else "incident",
            run=f"rerun-{uuid.uuid4().hex[:8]}" if again else f"opening-{opening}",
        )
        registered = await self._leases.register_work(
            TRIAGE_WORK,
            incident.id,
            job.model_dump_json(),
            once=None if again else keys.triage_once(incident.id, opening),
            once_ttl=TRIAGE_RECORD_TTL_SECONDS,
        )
        if registered:
            self._spawn(job)

    async def sweep(self) -> int:
        """Start registered triages that no replica runs (their owner died); how many."""
        started = 0
        for incident_id, document in (await self._leases.unfinished_work(TRIAGE_WORK)).items():
            if incident_id in self._here:
                continue
            try:
                job = TriageJob.model_validate_json(document)
            except ValidationError:
                log.error("dropping an unreadable triage record", incident=incident_id)
                await self._leases.finish_work(TRIAGE_WORK, incident_id, document)
                continue
            self._spawn(job)
            started += 1
        return started

    async def sweep_forever(self, every: float = SWEEP_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except StoreUnavailable as error:
                log.warning("triage sweep skipped: store unavailable", reason=str(error))

    def _spawn(self, job: TriageJob) -> None:
        self._here.add(job.incident_id)
        with contextlib.suppress(RuntimeError):  # shutting down: the sweeper elsewhere runs it
            self._tasks.spawn(self._run_leased(job), name=f"triage-{job.incident_id}")
            return
        self._here.discard(job.incident_id)

    async def _run_leased(self, job: TriageJob) -> None:
        name = keys.triage_lease(job.incident_id)
        try:
            token = await self._leases.acquire_lock(name, self._lease_seconds)
            if token is None:
                return  # another replica runs it
            async with kept(self._leases, Lease(name, token), self._lease_seconds):
                await self.run(job)
            await self._leases.finish_work(TRIAGE_WORK, job.incident_id, job.model_dump_json())
        finally:
            self._here.discard(job.incident_id)

    async def run(self, job: TriageJob) -> None:
        incident = await self._repo.get(job.incident_id)
        if incident is None or incident.service is None:
            return
        await self._set_state(incident.id, "running")
        progress = TriageProgress(
            service=incident.service, window=job.window, planned=self._runner.planned_steps()
        )
        await self._publish(incident, progress)

        async def on_step(result: StepResult) -> None:
            progress.results[result.id] = result
            await self._publish(incident, progress)

        started = time.monotonic()
        try:
            report = await self._runner.run(incident.service, job.window, on_step)
        except MetricsUnavailable as error:
            # Expected (no Prometheus configured, or it is down): one line, the reason shown.
            log.warning("triage could not run", incident=incident.id, reason=str(error))
            await self._fail(incident, progress, str(error))
            return
        except Exception as error:
            log.exception("triage failed", incident=incident.id)
            await self._fail(incident, progress, f"{type(error).__name__}: {error}")
            return
        finally:
            telemetry.TRIAGE_DURATION.labels(trigger=job.trigger).observe(
                time.monotonic() - started
            )
        progress.results = {step.id: step for step in report.steps}
        progress.diagnosis = report.diagnosis
        await self._publish(incident, progress)
        await self._record_diagnosis(incident.id, report)
        await self._attach_charts(incident, job, report)
        if self._profiles is not None:
            await self._attach_profile(incident, job, report, self._profiles)

    async def _attach_profile(
        self, incident: Incident, job: TriageJob, report: TriageReport, profiles: ProfileAttacher
    ) -> None:
        """After the diagnosis is shown, as a capture takes seconds the thread should not wait;
        a failure here leaves the finished triage as it is."""
        try:
            profiled = await profiles(report)
        except Exception:
            log.exception("profile after triage failed", incident=incident.id)
            return
        await post_profile(self._thread, incident, job.run, profiled.profile)

    async def _fail(self, incident: Incident, progress: TriageProgress, reason: str) -> None:
        progress.failure = reason
        await self._publish(incident, progress)
        await self._set_state(incident.id, "failed")

    async def _publish(self, incident: Incident, progress: TriageProgress) -> None:
        await self._thread.show_checklist(incident, progress)

    async def _record_diagnosis(self, incident_id: str, report: TriageReport) -> None:
        async with self._repo.locked_incident(incident_id) as incident:
            if incident is not None:
                incident.diagnosis = report.diagnosis.cause
                incident.triage = "done"
                await self._thread.show_root(incident)

    async def _set_state(self, incident_id: str, state: TriageState) -> None:
        async with self._repo.locked_incident(incident_id) as incident:
            if incident is not None:
                incident.triage = state

    async def _attach_charts(
        self, incident: Incident, job: TriageJob, report: TriageReport
    ) -> None:
        for index, spec in enumerate(chart_specs(report)[:MAX_CHARTS]):
            png = await render_png_async(spec)
            await self._thread.attach_chart(
                incident,
                f"{job.run}:{index + 1}",
                filename=f"{incident.id}-{index + 1}.png",
                title=spec.title,
                png=png,
            )
