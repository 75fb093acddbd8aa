from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.model import Alert, AlertBatch, make_alert
from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.outbox.ops import SyncRoot, ThreadNote, decode
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

    async def on_opened(incident: object) -> None:
        if opened is not None:
            opened.append(incident.id)

    return IncidentService(IncidentRepository(store), router, on_opened=on_opened, clock=clock)


async def queued_ops(store: Store) -> list[object]:
    return [decode(item) for _, item in await store.outbox_claim("test", 60, 1000)]


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
    assert ops == [SyncRoot(incident_id=opened[0])]


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
    assert (incident.alerts_received, len(incident.firing)) == (2000, 2000)


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
    notes = [op for op in await queued_ops(any_store) if isinstance(op, ThreadNote)]
    assert len(notes) == 1
    assert "cleared" in notes[0].text


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


@pytest.mark.parametrize("failing", ["put_incident", "outbox_push", "set_value"])
async def test_store_failing_mid_request_leaves_nothing_half_done_after_the_retry(
    any_store: Store, failing: str
) -> None:
    flaky = StoreGoingAway(any_store, failing)
    opened: list[str] = []
    service = make_service(flaky, Clock(), opened)  # type: ignore[arg-type]
    notification = batch(alert(instance="a"), alert(instance="b"))
    with pytest.raises(StoreUnavailable):
        await service.accept(notification)
    assert flaky.failed
    result = await service.accept(notification)  # the sender's retry after our 503
    assert result.accepted == 2
    (incident_id,) = await any_store.open_incident_ids()
    incident = await service.repository.get(incident_id)
    assert incident is not None
    assert (incident.alerts_received, sorted(incident.firing)) == (
        2,
        sorted(a.fingerprint for a in notification.alerts),
    )
    assert opened == [incident_id], "the triage is started by the retry"
    ops = await queued_ops(any_store)
    assert ops.count(SyncRoot(incident_id=incident_id)) == 1
