"""An incident's triage adds the profile its diagnosis calls for after the diagnosis is shown:
a note with the culprit and a flame graph in the thread."""

from __future__ import annotations

from bot.incidents.triage_flow import IncidentTriage
from bot.models import TriageReport
from bot.profiling.attach import with_profile
from bot.profiling.evidence import Culprit, FlameStack, ProfileEvidence
from bot.runtime.tasks import TaskTracker
from bot.store import Store
from bot.store.keys import TRIAGE_WORK
from emulator.server import RunningEmulator
from tests.incidents.test_service import alert, batch
from tests.incidents.test_triage_flow import CHANNEL, FakeRunner
from tests.outbox.harness import build_replica

EVIDENCE = ProfileEvidence(
    kind="cpu",
    captured=True,
    instance="10.0.0.5:9464",
    seconds=5,
    samples=5000,
    culprits=(
        Culprit(kind="function", name="rebuildPrices", location="/srv/prices.js:12", share=0.7),
    ),
    flame=(FlameStack(frames=("main app.js:1", "rebuildPrices prices.js:12"), weight=3500),),
)


async def test_the_profile_follows_the_diagnosis_in_the_thread(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    profiled: list[str] = []

    async def profiles(report: TriageReport) -> TriageReport:
        profiled.append(report.diagnosis.cause)
        return with_profile(report, EVIDENCE)

    triage = IncidentTriage(
        replica.repository,
        FakeRunner(),
        TaskTracker(),
        replica.thread,
        replica.store,
        profiles=profiles,
    )
    replica.service._on_opened = triage.start
    await replica.service.accept(batch(alert()))
    assert await triage._tasks.settle(30) == 0  # the chart worker may start slowly
    await replica.drain()
    assert profiled == ["event_loop_blocked"]
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    replies = quick_emulator.state.thread_replies(CHANNEL, root.ts)
    assert "Most likely cause: event loop blocked" in str(replies[0].blocks)
    (note,) = [reply for reply in replies if "CPU profile of 10.0.0.5:9464" in reply.text]
    assert "`rebuildPrices` at `/srv/prices.js:12`: 70% of samples" in note.text
    titles = sorted(f.title or "" for f in quick_emulator.state.files.values() if f.completed)
    assert any(title.startswith("CPU flame graph, 10.0.0.5:9464") for title in titles), titles


async def test_a_failing_profile_leaves_the_finished_triage_alone(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)

    async def profiles(report: TriageReport) -> TriageReport:
        raise LookupError("the service left the catalog")

    triage = IncidentTriage(
        replica.repository,
        FakeRunner(),
        TaskTracker(),
        replica.thread,
        replica.store,
        profiles=profiles,
    )
    replica.service._on_opened = triage.start
    await replica.service.accept(batch(alert()))
    assert await triage._tasks.settle(30) == 0  # the chart worker may start slowly
    await replica.drain()
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    assert incident.triage == "done"
    assert incident.diagnosis == "event_loop_blocked"
    assert await any_store.unfinished_work(TRIAGE_WORK) == {}
