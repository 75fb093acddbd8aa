from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.incidents.triage_flow import IncidentTriage, StepCallback, TriageJob
from bot.models import (
    Diagnosis,
    Evidence,
    Finding,
    PlannedStep,
    SeriesPoint,
    StepResult,
    TriageReport,
)
from bot.runtime.tasks import TaskTracker
from bot.store import Store, keys
from bot.store.keys import TRIAGE_WORK
from emulator.server import RunningEmulator
from tests.incidents.test_service import alert, batch
from tests.outbox.harness import Replica, build_replica
from tests.waiting import eventually

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


def with_triage(
    replica: Replica, runner: FakeRunner, *, lease_seconds: float = keys.TRIAGE_LEASE_SECONDS
) -> IncidentTriage:
    triage = IncidentTriage(
        replica.repository,
        runner,
        TaskTracker(),
        replica.thread,
        replica.store,
        lease_seconds=lease_seconds,
    )
    replica.service._on_opened = triage.start
    return triage


async def test_triage_progress_diagnosis_and_chart_land_in_the_thread(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    triage = with_triage(replica, FakeRunner())
    await replica.service.accept(batch(alert()))
    assert await triage._tasks.settle(5) == 0
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "event loop blocked" in str(root.blocks)
    replies = quick_emulator.state.thread_replies(CHANNEL, root.ts)
    checklist = replies[0]
    assert "Most likely cause: event loop blocked" in str(checklist.blocks)
    assert "p99 event-loop lag 420 ms" in str(checklist.blocks)
    uploads = [f for f in quick_emulator.state.files.values() if f.completed]
    assert len(uploads) == 1
    assert uploads[0].content is not None
    assert uploads[0].content.startswith(b"\x89PNG")
    assert uploads[0].shares[0].thread_ts == root.ts
    assert await any_store.unfinished_work(TRIAGE_WORK) == {}


class CountingRunner(FakeRunner):
    def __init__(self) -> None:
        self.runs: list[str] = []

    async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport:
        self.runs.append(service)
        return await super().run(service, window, on_step)


async def test_triage_starts_once_per_opening_unless_asked_again(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    runner = CountingRunner()
    triage = with_triage(replica, runner)
    notification = batch(alert())
    await asyncio.gather(*(replica.service.accept(notification) for _ in range(3)))
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    await triage.start(incident)
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == ["checkout"]
    await triage.start(incident, again=True)
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == ["checkout", "checkout"]
    finished = await replica.repository.get(incident_id)
    assert finished is not None
    assert (finished.triage, finished.diagnosis) == ("done", "event_loop_blocked")


async def test_a_triage_whose_owner_died_is_finished_by_another_replica(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    dead = build_replica(any_store, quick_emulator)
    await dead.service.accept(batch(alert()))
    (incident_id,) = await any_store.open_incident_ids()
    # What a replica killed mid-triage leaves: the registration, a lease nobody renews, and
    # a chart it had queued.
    job = TriageJob(incident_id=incident_id, window="10m", trigger="incident", run="opening-0")
    assert await any_store.register_work(
        TRIAGE_WORK, incident_id, job.model_dump_json(), once=None, once_ttl=60
    )
    assert await any_store.acquire_lock(keys.triage_lease(incident_id), 0.5)
    incident = await dead.repository.get(incident_id)
    assert incident is not None
    await dead.thread.attach_chart(incident, f"{job.run}:1", "x.png", "from the dead run", b"x")
    survivor = build_replica(any_store, quick_emulator)
    runner = CountingRunner()
    triage = with_triage(survivor, runner)
    assert await triage.sweep() == 1
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == [], "the lease was still held"
    await eventually(lambda: lease_lapsed(any_store, keys.triage_lease(incident_id)), 5)
    assert await triage.sweep() == 1
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == ["checkout"]
    assert await any_store.unfinished_work(TRIAGE_WORK) == {}
    await survivor.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "event loop blocked" in str(root.blocks)
    uploads = [f for f in quick_emulator.state.files.values() if f.completed]
    assert len(uploads) == 1, "the chart of the same run is uploaded once"
    replies = quick_emulator.state.thread_replies(CHANNEL, root.ts)
    assert sum("Most likely cause" in str(r.blocks) for r in replies) == 1


class GatedRunner(CountingRunner):
    """The first run waits at the gate, as a slow triage would."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport:
        if not self.waiting.is_set():
            self.waiting.set()
            await self.gate.wait()
        return await super().run(service, window, on_step)


async def test_a_rerun_pressed_during_a_triage_runs_after_it(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    runner = GatedRunner()
    triage = with_triage(replica, runner)
    await replica.service.accept(batch(alert()))
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    await asyncio.wait_for(runner.waiting.wait(), 5)
    await triage.start(incident, again=True)  # while the first one runs
    runner.gate.set()
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == ["checkout"]
    assert list(await any_store.unfinished_work(TRIAGE_WORK)) == [incident_id]
    await triage.sweep()
    assert await triage._tasks.settle(5) == 0
    assert runner.runs == ["checkout", "checkout"]
    assert await any_store.unfinished_work(TRIAGE_WORK) == {}


async def lease_lapsed(store: Store, lease: str) -> bool:
    """Nobody holds the lease: taking it works (and it is handed straight back)."""
    token = await store.acquire_lock(lease, 1)
    if token is not None:
        await store.release_lock(lease, token)
    return token is not None
