"""Triage for an incident: run it in the background, show progress in the thread, attach charts."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from bot.charts import ChartSpec, render_png_async
from bot.incidents.model import Incident, TriageState
from bot.incidents.repository import IncidentRepository
from bot.models import Finding, PlannedStep, StepResult, TriageProgress, TriageReport
from bot.outbox.ops import SyncChecklist, SyncRoot, UploadChart
from bot.runtime.tasks import TaskTracker
from bot.slack.render.triage import checklist_blocks, checklist_text
from bot.sources.base import MetricsUnavailable
from bot.store.base import Store

log = structlog.get_logger(__name__)

PROGRESS_TTL_SECONDS = 30 * 24 * 3600.0
DEFAULT_WINDOW = "10m"
MAX_CHARTS = 4

StepCallback = Callable[[StepResult], Awaitable[None]]


class TriageRunner(Protocol):
    """Runs the playbook for a catalog service (the same engine the CLI uses)."""

    def planned_steps(self) -> list[PlannedStep]: ...

    async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport: ...


class IncidentTriage:
    def __init__(
        self,
        repository: IncidentRepository,
        runner: TriageRunner,
        tasks: TaskTracker,
    ) -> None:
        self._repo = repository
        self._runner = runner
        self._tasks = tasks

    async def start(
        self, incident: Incident, window: str = DEFAULT_WINDOW, *, again: bool = False
    ) -> None:
        """Start the incident's triage once per opening (HA twins and retries included);
        `again` runs a fresh one, as the Re-run button asks."""
        if incident.service is None:
            log.info("no triage: the alert maps to no catalog service", incident=incident.id)
            return
        once = f"triage-started:{incident.id}:{incident.reopened_count}"
        if not again and not await self._repo.store.claim_once(once, PROGRESS_TTL_SECONDS):
            return
        await self._set_state(incident.id, "running")
        self._tasks.spawn(self.run(incident, window), name=f"triage-{incident.id}")

    async def run(self, incident: Incident, window: str) -> None:
        assert incident.service is not None
        progress = TriageProgress(
            service=incident.service, window=window, planned=self._runner.planned_steps()
        )
        await self._publish(incident.id, progress)

        async def on_step(result: StepResult) -> None:
            progress.results[result.id] = result
            await self._publish(incident.id, progress)

        try:
            report = await self._runner.run(incident.service, window, on_step)
        except MetricsUnavailable as error:
            # Expected (no Prometheus configured, or it is down): one line, the reason shown.
            log.warning("triage could not run", incident=incident.id, reason=str(error))
            await self._fail(incident.id, progress, str(error))
            return
        except Exception as error:
            log.exception("triage failed", incident=incident.id)
            await self._fail(incident.id, progress, f"{type(error).__name__}: {error}")
            return
        progress.results = {step.id: step for step in report.steps}
        progress.diagnosis = report.diagnosis
        await self._publish(incident.id, progress)
        await self._record_diagnosis(incident.id, report)
        await self._attach_charts(incident.id, report)

    async def _fail(self, incident_id: str, progress: TriageProgress, reason: str) -> None:
        progress.failure = reason
        await self._publish(incident_id, progress)
        await self._set_state(incident_id, "failed")

    async def _publish(self, incident_id: str, progress: TriageProgress) -> None:
        await self._repo.store.set_value(
            _progress_key(incident_id), progress.model_dump_json(), PROGRESS_TTL_SECONDS
        )
        await self._repo.enqueue(SyncChecklist(incident_id=incident_id))

    async def _record_diagnosis(self, incident_id: str, report: TriageReport) -> None:
        async with self._repo.locked_incident(incident_id) as incident:
            if incident is not None:
                incident.diagnosis = report.diagnosis.cause
                incident.triage = "done"
        await self._repo.enqueue(SyncRoot(incident_id=incident_id))

    async def _set_state(self, incident_id: str, state: TriageState) -> None:
        async with self._repo.locked_incident(incident_id) as incident:
            if incident is not None:
                incident.triage = state

    async def _attach_charts(self, incident_id: str, report: TriageReport) -> None:
        for index, spec in enumerate(chart_specs(report)[:MAX_CHARTS]):
            png = await render_png_async(spec)
            await self._repo.enqueue(
                UploadChart(
                    incident_id=incident_id,
                    filename=f"{incident_id}-{index + 1}.png",
                    title=spec.title,
                    png_base64=base64.b64encode(png).decode(),
                )
            )


async def render_progress(
    store: Store, incident: Incident
) -> tuple[str, list[dict[str, Any]]] | None:
    """The checklist message as it should read now (None before any triage)."""
    stored = await store.get_value(_progress_key(incident.id))
    if stored is None:
        return None
    progress = TriageProgress.model_validate_json(stored)
    return checklist_text(progress), [b.to_dict() for b in checklist_blocks(progress)]


def chart_specs(report: TriageReport) -> list[ChartSpec]:
    """One chart per worrying finding that carries a series, worst steps first."""
    findings = [f for step in report.steps for f in step.findings if f.severity != "info"]
    findings.sort(key=lambda f: f.severity != "crit")
    return [_spec(f) for f in findings if f.evidence.series]


def _spec(finding: Finding) -> ChartSpec:
    return ChartSpec(
        title=_chart_title(finding.summary),
        series=finding.evidence.series,
        unit=finding.evidence.unit,
        thresholds=finding.evidence.threshold,
    )


def _chart_title(summary: str, limit: int = 80) -> str:
    """The part of a summary before its explanation, e.g. "p99 lag 429 ms (peak 429 ms)"."""
    head = summary.split(":", 1)[0].strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"


def _progress_key(incident_id: str) -> str:
    return f"triage-progress:{incident_id}"
