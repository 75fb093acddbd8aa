from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.incidents.triage_flow import IncidentTriage, StepCallback, render_progress
from bot.models import (
    Diagnosis,
    Evidence,
    Finding,
    PlannedStep,
    SeriesPoint,
    StepResult,
    TriageReport,
)
from bot.outbox.channel_delivery import ChannelDelivery
from bot.outbox.post_once import PostOnce
from bot.outbox.slack_delivery import Deliveries, SlackDelivery
from bot.outbox.worker import OutboxWorker
from bot.runtime.tasks import TaskTracker
from bot.slack.client import BotWebClient, ChannelPacer
from bot.store import MemoryStore
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN
from tests.incidents.test_service import alert, batch

CHANNEL = "C0INCIDENTS"
STEPS = [PlannedStep(id="event_loop", title="Event loop"), PlannedStep(id="memory", title="Memory")]


class FakeRunner:
    """Finishes two steps one after the other, like the engine reporting progress."""

    def planned_steps(self) -> list[PlannedStep]:
        return STEPS

    async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport:
        lag = Finding(
            code="eventloop_lag",
            severity="crit",
            summary="p99 event-loop lag 420 ms",
            evidence=Evidence(
                series={"p99 lag": [SeriesPoint(t=1.0e9 + i * 15, v=0.4) for i in range(20)]},
                threshold={"bad": 0.1},
                unit="s",
            ),
            advice="Find the synchronous work in the request path.",
        )
        steps = (
            StepResult(id="event_loop", title="Event loop", status="crit", findings=(lag,)),
            StepResult(id="memory", title="Memory", status="ok"),
        )
        for step in steps:
            await on_step(step)
            await asyncio.sleep(0.05)
        return TriageReport(
            service=service,
            window=window,
            started_at=datetime.now(UTC),
            duration_ms=100,
            steps=steps,
            diagnosis=Diagnosis(
                cause="event_loop_blocked", confidence=0.9, summary="The loop is blocked."
            ),
        )


async def test_triage_progress_diagnosis_and_chart_land_in_the_thread(
    emulator: RunningEmulator,
) -> None:
    store = MemoryStore()
    repository = IncidentRepository(store)
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url, pacer=ChannelPacer(0.05))
    deliveries = Deliveries(
        SlackDelivery(repository, client, partial(render_progress, store)),
        ChannelDelivery(PostOnce(store, client), client),
    )
    worker = OutboxWorker(store, deliveries.deliver, deliveries.channel_of, lease_seconds=0.5)
    tasks = TaskTracker()
    triage = IncidentTriage(repository, FakeRunner(), tasks)
    router = Router([ServiceRoute("checkout", {"job": "checkout"}, CHANNEL)], "C0GENERAL")
    service = IncidentService(repository, router, on_opened=triage.start)

    await service.accept(batch(alert()))
    await tasks.drain(5)
    for _ in range(30):
        await worker.run_once()
        if await store.outbox_pending_count() == 0:
            break
        await asyncio.sleep(0.1)

    (root,) = emulator.state.channel_messages(CHANNEL)
    assert "event loop blocked" in str(root.blocks)
    replies = emulator.state.thread_replies(CHANNEL, root.ts)
    checklist = replies[0]
    assert "Most likely cause: event loop blocked" in str(checklist.blocks)
    assert "p99 event-loop lag 420 ms" in str(checklist.blocks)
    uploads = [f for f in emulator.state.files.values() if f.completed]
    assert len(uploads) == 1
    assert uploads[0].content is not None
    assert uploads[0].content.startswith(b"\x89PNG")
    assert uploads[0].shares[0].thread_ts == root.ts


async def test_triage_starts_once_per_opening_unless_asked_again() -> None:
    store = MemoryStore()
    repository = IncidentRepository(store)
    runs: list[str] = []

    class CountingRunner(FakeRunner):
        async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport:
            runs.append(service)
            return await super().run(service, window, on_step)

    tasks = TaskTracker()
    triage = IncidentTriage(repository, CountingRunner(), tasks)
    router = Router([ServiceRoute("checkout", {"job": "checkout"}, CHANNEL)], "C0GENERAL")
    service = IncidentService(repository, router, on_opened=triage.start)
    await asyncio.gather(*(service.accept(batch(alert())) for _ in range(3)))
    (incident_id,) = await store.open_incident_ids()
    incident = await repository.get(incident_id)
    assert incident is not None
    await triage.start(incident)
    await tasks.drain(5)
    assert runs == ["checkout"]
    tasks = TaskTracker()
    again = IncidentTriage(repository, CountingRunner(), tasks)
    await again.start(incident, again=True)
    await tasks.drain(5)
    assert runs == ["checkout", "checkout"]
    finished = await repository.get(incident_id)
    assert finished is not None
    assert (finished.triage, finished.diagnosis) == ("done", "event_loop_blocked")
