from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.model import Alert, AlertBatch, make_alert
from bot.incidents.model import Incident
from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.incidents.thread import IncidentThread, root_slot
from bot.incidents.triage_flow import IncidentTriage, StepCallback
from bot.models import TriageReport
from bot.outbox.ops import AnyOp, Post, SyncSlot, decode
from bot.outbox.queue import Outbox
from bot.runtime.tasks import TaskTracker
from bot.store import Store, StoreUnavailable

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def alert(
    name: str = "HighLatency",
    *,
    instance: str = "a",
    status: str = "firing",
    job: str = "checkout",
    starts_at: datetime = START,
) -> Alert:
    return make_alert(
        source="alertmanager",
        status=status,  # type: ignore[arg-type]
        group_key=f'{{}}:{{alertname="{name}"}}',
        labels={"alertname": name, "job": job, "instance": instance, "severity": "critical"},
        annotations={"summary": "p99 above target"},
        starts_at=starts_at,
    )


def batch(*alerts: Alert) -> AlertBatch:
    return AlertBatch(source="alertmanager", alerts=alerts)


def make_service(store: Store, clock: Clock, opened: list[str] | None = None) -> IncidentService:
    router = Router(
        [ServiceRoute("checkout", {"job": "checkout"}, channel="C0CHECKOUT")],
        default_channel="C0GENERAL",
    )

    async def on_opened(incident: Incident) -> None:
        if opened is not None:
            opened.append(incident.id)

    thread = IncidentThread(Outbox(store))
    return IncidentService(
        IncidentRepository(store), router, thread, on_opened=on_opened, clock=clock
    )


async def queued_ops(store: Store) -> list[AnyOp]:
    """Every write queued in any lane, oldest first per lane."""
    return [
        decode(entry.item)
        for lane in await store.lanes()
        for entry in await store.peek_lane(lane, 10_000)
    ]


def root_syncs(ops: list[AnyOp], incident_id: str) -> list[AnyOp]:
    return [op for op in ops if isinstance(op, SyncSlot) and op.slot == root_slot(incident_id)]


async def test_alert_opens_one_incident_in_the_services_channel(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    result = await service.accept(batch(alert()))
    assert result.accepted == 1
    assert len(opened) == 1
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert (incident.service, incident.slack.channel) == ("checkout", "C0CHECKOUT")
    assert incident.severity == "critical"
    ops = await queued_ops(any_store)
    assert len(ops) == 1
    assert root_syncs(ops, opened[0]) == ops
    assert ops[0].channel == "C0CHECKOUT"


async def test_ha_duplicate_and_retry_change_nothing(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    first = await service.accept(batch(alert(instance="a"), alert(instance="b")))
    again = await service.accept(batch(alert(instance="b"), alert(instance="a")))
    assert (first.accepted, again.duplicates) == (2, 2)
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert incident.alerts_received == 2
    assert len(await queued_ops(any_store)) == 1


async def test_concurrent_ha_pair_yields_one_incident(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    notification = batch(alert(instance="a"))
    await asyncio.gather(*(service.accept(notification) for _ in range(5)))
    assert len(set(opened)) == 1  # the triage itself starts once: see test_triage_flow
    assert len(await any_store.open_incident_ids()) == 1


async def test_storm_of_thousands_is_one_incident_with_counts(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    storm = [alert(instance=f"pod-{i}") for i in range(2000)]
    await service.accept(batch(*storm))
    assert len(opened) == 1
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert (incident.alerts_received, incident.firing_count) == (2000, 2000)
    assert len(await any_store.firing_fingerprints(incident.id)) == 2000
    assert len(incident.model_dump_json()) < 2000, "fingerprints live beside the document"


async def test_all_alerts_clearing_resolves_and_notes_it_in_the_thread(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    await service.accept(batch(alert(instance="a"), alert(instance="b")))
    await service.accept(batch(alert(instance="a", status="resolved")))
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert incident.status == "triggered"
    await service.accept(batch(alert(instance="b", status="resolved")))
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert (incident.status, incident.resolved_by) == ("resolved", "alerts")
    notes = [op for op in await queued_ops(any_store) if isinstance(op, Post)]
    assert len(notes) == 1
    assert "cleared" in notes[0].text
    assert notes[0].thread == root_slot(incident.id)


async def test_refire_soon_after_resolution_reopens_the_same_incident(any_store: Store) -> None:
    clock = Clock()
    opened: list[str] = []
    service = make_service(any_store, clock, opened)
    await service.accept(batch(alert()))
    await service.accept(batch(alert(status="resolved")))
    clock.now += timedelta(minutes=10)
    await service.accept(batch(alert(starts_at=clock.now)))
    assert len(set(opened)) == 1
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert (incident.status, incident.reopened_count) == ("triggered", 1)
    assert await any_store.incident_for_group(incident.group_key) == incident.id


async def test_resolved_notification_for_unknown_incident_opens_nothing(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    result = await service.accept(batch(alert(status="resolved")))
    assert result.accepted == 1
    assert opened == []
    assert await any_store.open_incident_ids() == []


async def test_unmapped_alert_goes_to_the_default_channel(any_store: Store) -> None:
    opened: list[str] = []
    service = make_service(any_store, Clock(), opened)
    await service.accept(batch(alert(job="billing")))
    incident = await service.repository.get(opened[0])
    assert incident is not None
    assert (incident.service, incident.slack.channel) == (None, "C0GENERAL")


async def test_acknowledge_then_resolve_records_who_and_when(any_store: Store) -> None:
    clock = Clock()
    opened: list[str] = []
    service = make_service(any_store, clock, opened)
    await service.accept(batch(alert()))
    clock.now += timedelta(minutes=3)
    acked = await service.acknowledge(opened[0], "U0ALICE")
    assert acked is not None
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == (
        "acknowledged",
        "U0ALICE",
        clock.now,
    )
    twice = await service.acknowledge(opened[0], "U0BOB")
    assert twice is not None
    assert twice.acknowledged_by == "U0ALICE"
    resolved = await service.resolve(opened[0], "U0BOB")
    assert resolved is not None
    assert resolved.status == "resolved"
    timeline = await service.repository.timeline(opened[0])
    assert [(e.who, e.what) for e in timeline] == [
        ("alerts", "opened"),
        ("U0ALICE", "acknowledged"),
        ("U0BOB", "resolved"),
    ]
    assert await service.acknowledge("no-such-incident", "U0ALICE") is None


class StoreGoingAway:
    """Delegates to a real store but fails the first call of one operation, as a store that
    drops mid-request would."""

    def __init__(self, store: Store, failing: str) -> None:
        self._store = store
        self._failing = failing
        self.failed = False

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._store, name)
        if name != self._failing or self.failed:
            return attribute

        async def fail_once(*args: object, **kwargs: object) -> object:
            self.failed = True
            raise StoreUnavailable("connection lost")

        return fail_once


@pytest.mark.parametrize(
    "failing", ["update_firing", "write_slot", "put_incident", "register_work", "set_value"]
)
async def test_store_failing_mid_request_leaves_nothing_half_done_after_the_retry(
    any_store: Store, failing: str
) -> None:
    from tests.incidents.test_triage_flow import FakeRunner

    flaky = StoreGoingAway(any_store, failing)
    runs: list[str] = []

    class CountingRunner(FakeRunner):
        async def run(self, service: str, window: str, on_step: StepCallback) -> TriageReport:
            runs.append(service)
            return await super().run(service, window, on_step)

    tasks = TaskTracker()
    repository = IncidentRepository(flaky)  # type: ignore[arg-type]
    thread = IncidentThread(Outbox(flaky))  # type: ignore[arg-type]
    triage = IncidentTriage(repository, CountingRunner(), tasks, thread, flaky)  # type: ignore[arg-type]
    router = Router([ServiceRoute("checkout", {"job": "checkout"}, "C0CHECKOUT")], "C0GENERAL")
    service = IncidentService(repository, router, thread, on_opened=triage.start, clock=Clock())
    notification = batch(alert(instance="a"), alert(instance="b"))
    with pytest.raises(StoreUnavailable):
        await service.accept(notification)
    assert flaky.failed
    result = await service.accept(notification)  # the sender's retry after our 503
    assert result.accepted == 2
    assert (await service.accept(notification)).duplicates == 2
    (incident_id,) = await any_store.open_incident_ids()
    incident = await service.repository.get(incident_id)
    assert incident is not None
    assert (incident.alerts_received, sorted(await any_store.firing_fingerprints(incident_id))) == (
        2,
        sorted(a.fingerprint for a in notification.alerts),
    )
    assert await tasks.settle(5) == 0
    assert runs == ["checkout"], "the triage runs once, started by the retry if need be"
    ops = await queued_ops(any_store)
    assert len(root_syncs(ops, incident_id)) == 1
