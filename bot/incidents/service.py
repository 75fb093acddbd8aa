"""Turning alert batches into incidents, and the lifecycle actions people take on them.

Grouping: alerts of one service and alert name belong to one open incident, however many
arrive (a storm is one incident with counts). Applying an alert is idempotent: a firing alert
is keyed by fingerprint, so a retry or an HA duplicate changes nothing. A whole notification
seen before is skipped early to keep the timeline quiet.

Re-fire after resolution: within REOPEN_WINDOW_SECONDS (30 minutes) the resolved incident is
reopened in its existing thread; later, a new incident and a new thread are opened.

A notification is remembered as seen only once everything it implies is stored (incidents,
their Slack messages queued, triages registered), so a store failure half-way makes the
sender's retry do the rest instead of being dropped as a duplicate. Notes that mark a
transition have stable ids, so a retry that repeats one posts it once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog

from bot import telemetry
from bot.alerts.model import Alert, AlertBatch
from bot.alerts.sink import AcceptResult
from bot.incidents.model import Incident, SlackThread
from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Route, Router
from bot.incidents.thread import IncidentThread
from bot.slack.render import notes
from bot.store import keys
from bot.store.keys import IDEMPOTENCY_TTL_SECONDS

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
IncidentHook = Callable[[Incident], Awaitable[None]]


class IncidentService:
    def __init__(
        self,
        repository: IncidentRepository,
        router: Router,
        thread: IncidentThread,
        *,
        on_opened: IncidentHook | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.repository = repository
        self.thread = thread
        self._router = router
        self._on_opened = on_opened
        self._now = clock

    async def accept(self, batch: AlertBatch) -> AcceptResult:
        """Store the batch's effect on incidents durably; return only once it is stored."""
        values = self.repository.store
        notification = _notification_key(batch.alerts)
        if await values.get_value(notification) is not None:
            return AcceptResult(accepted=0, duplicates=len(batch.alerts))
        untriaged: list[Incident] = []
        for (route, alertname), alerts in _grouped(batch.alerts, self._router).items():
            incident = await self._apply(route, alertname, alerts)
            # Not only new incidents: a retry after a store failure finds the incident stored
            # but its triage never started.
            if incident is not None and incident.is_open and incident.triage == "pending":
                untriaged.append(incident)
        for incident in untriaged:
            await self._opened(incident)
        # Durable: a failover must not forget what this notification did once it is answered.
        await values.set_value(notification, "1", IDEMPOTENCY_TTL_SECONDS, durable=True)
        return AcceptResult(accepted=len(batch.alerts))

    async def _apply(self, route: Route, alertname: str, alerts: list[Alert]) -> Incident | None:
        group_key = f"{route.service or '_unmapped'}/{alertname}"
        async with self.repository.locked(group_key):
            incident = await self.repository.open_for_group(group_key)
            if incident is None:
                if not any(a.status == "firing" for a in alerts):
                    return None
                incident = await self._open_or_reopen(group_key, route, alerts[0])
            cleared_now = await self._merge(incident, alerts)
            await self.thread.show_root(incident)
            if cleared_now:
                await self.thread.note(
                    incident, notes.alerts_cleared(), once_as=f"cleared:{incident.reopened_count}"
                )
            await self.repository.save(incident)
            return incident

    async def _open_or_reopen(self, group_key: str, route: Route, first: Alert) -> Incident:
        now = self._now()
        previous = await self.repository.recently_resolved(group_key)
        if previous is not None:
            previous.reopen(now)
            await self.repository.record(
                previous.id, "alerts", "reopened: the alert fired again", now
            )
            return await self.repository.create(previous)
        incident = Incident(
            id=_new_id(now),
            group_key=group_key,
            service=route.service,
            alertname=first.alertname,
            severity=first.severity,
            summary=first.summary,
            opened_at=now,
            updated_at=now,
            matchers=dict(first.labels),
            links=dict(first.links),
            slack=SlackThread(channel=route.channel),
        )
        created = await self.repository.create(incident)
        if created.id == incident.id:
            await self.repository.record(incident.id, "alerts", "opened", now)
            telemetry.INCIDENTS_OPENED.labels(source=first.source).inc()
        return created

    async def _merge(self, incident: Incident, alerts: list[Alert]) -> bool:
        """Fold alerts into the incident; True if this cleared its last firing alert."""
        now = self._now()
        firing: dict[str, str] = {}
        cleared: dict[str, None] = {}
        for alert in alerts:  # in order: a later status of the same alert wins
            if alert.status == "firing":
                cleared.pop(alert.fingerprint, None)
                firing[alert.fingerprint] = alert.starts_at.isoformat()
                incident.raise_severity(alert.severity)
            else:
                firing.pop(alert.fingerprint, None)
                cleared[alert.fingerprint] = None
        change = await self.repository.fold_firing(incident.id, firing, list(cleared))
        incident.alerts_received = change.received
        incident.firing_count = change.firing
        incident.matchers = _common_labels(incident.matchers, alerts)
        incident.updated_at = now
        return change.firing == 0 and incident.resolve("alerts", now)

    async def _opened(self, incident: Incident) -> None:
        log.info("incident needs a triage", incident=incident.id, service=incident.service)
        if self._on_opened is not None:
            await self._on_opened(incident)

    async def acknowledge(self, incident_id: str, who: str) -> Incident | None:
        return await self._act(incident_id, who, "acknowledged", Incident.acknowledge)

    async def resolve(self, incident_id: str, who: str) -> Incident | None:
        return await self._act(incident_id, who, "resolved", Incident.resolve)

    async def _act(
        self,
        incident_id: str,
        who: str,
        verb: str,
        change: Callable[[Incident, str, datetime], bool],
    ) -> Incident | None:
        """Apply a person's action; None if the incident is unknown. Unchanged if not allowed."""
        incident = await self.repository.get(incident_id)
        if incident is None:
            return None
        async with self.repository.locked(incident.group_key):
            incident = await self.repository.get(incident_id)
            if incident is None or not change(incident, who, self._now()):
                return incident
            await self.thread.show_root(incident)
            await self.thread.note(
                incident,
                notes.person_acted(who, verb),
                once_as=f"{verb}:{incident.reopened_count}",
            )
            await self.repository.save(incident)
            await self.repository.record(incident.id, who, verb, self._now())
            return incident

    async def note(self, incident_id: str, who: str, text: str) -> bool:
        incident = await self.repository.get(incident_id)
        if incident is None:
            return False
        await self.repository.record(incident_id, who, f"note: {text}", self._now())
        await self.thread.note(incident, notes.person_noted(who, text))
        return True

    async def tell_thread(self, incident: Incident, text: str) -> None:
        """Post a line in the incident's thread without recording it in the timeline."""
        await self.thread.note(incident, text)


def _grouped(alerts: Sequence[Alert], router: Router) -> dict[tuple[Route, str], list[Alert]]:
    groups: dict[tuple[Route, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[(router.route(alert.labels), alert.alertname)].append(alert)
    return groups


def _common_labels(current: dict[str, str], alerts: list[Alert]) -> dict[str, str]:
    """Labels every alert shares: the matchers a silence for the whole incident can use."""
    common = dict(current)
    for alert in alerts:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    return common


def _notification_key(alerts: Sequence[Alert]) -> str:
    digest = hashlib.sha256("\n".join(sorted(a.dedupe_key for a in alerts)).encode()).hexdigest()
    return keys.notification(digest[:32])


def _new_id(now: datetime) -> str:
    return f"{now:%y%m%d}-{uuid.uuid4().hex[:6]}"
