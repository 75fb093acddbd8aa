"""Incident documents in the store, with a per-group lease for read-modify-write."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import structlog

from bot.incidents.model import Incident, TimelineEntry
from bot.incidents.thread import incident_of_root
from bot.runtime.leases import Lease, LeaseBusy, acquire, kept
from bot.store import keys
from bot.store.base import FiringChange, IncidentStore, LeaseStore, ValueStore
from bot.store.keys import GROUP_LOCK_TTL_SECONDS, REOPEN_WINDOW_SECONDS

log = structlog.get_logger(__name__)

LOCK_WAIT_SECONDS = 10.0


class RepositoryStore(IncidentStore, LeaseStore, ValueStore, Protocol):
    """What the incident repository needs of the store."""


class IncidentBusy(LeaseBusy):
    """Another writer held the incident's lock for too long; the caller should retry."""


class IncidentRepository:
    def __init__(self, store: RepositoryStore) -> None:
        self.store = store

    async def get(self, incident_id: str) -> Incident | None:
        document = await self.store.get_incident(incident_id)
        return Incident.model_validate_json(document) if document else None

    async def open_for_group(self, group_key: str) -> Incident | None:
        incident_id = await self.store.incident_for_group(group_key)
        return await self.get(incident_id) if incident_id else None

    async def recently_resolved(self, group_key: str) -> Incident | None:
        incident_id = await self.store.get_value(keys.resolved_group(group_key))
        return await self.get(incident_id) if incident_id else None

    async def create(self, incident: Incident) -> Incident:
        """Create `incident` unless a concurrent writer opened one for its group first."""
        owner = await self.store.create_incident_if_absent(
            incident.group_key, incident.id, incident.model_dump_json()
        )
        if owner == incident.id:
            return incident
        existing = await self.get(owner)
        return existing if existing is not None else incident

    async def save(self, incident: Incident) -> None:
        await self.store.put_incident(
            incident.id, incident.group_key, incident.model_dump_json(), open=incident.is_open
        )
        if not incident.is_open:
            await self.store.set_value(
                keys.resolved_group(incident.group_key), incident.id, REOPEN_WINDOW_SECONDS
            )

    async def fold_firing(
        self, incident_id: str, firing: Mapping[str, str], cleared: Sequence[str]
    ) -> FiringChange:
        return await self.store.update_firing(incident_id, firing, cleared)

    async def open_incidents(self, limit: int | None = None) -> list[Incident]:
        ids = await self.store.open_incident_ids()
        found = [await self.get(incident_id) for incident_id in ids[:limit]]
        return [incident for incident in found if incident is not None]

    async def opened_between(self, start: datetime, end: datetime) -> list[Incident]:
        """Incidents first opened in [start, end), oldest first (for the weekly digest)."""
        ids = await self.store.incident_ids_opened_since(start.timestamp())
        found = [await self.get(incident_id) for incident_id in ids]
        return [i for i in found if i is not None and start <= i.opened_at < end]

    async def record(self, incident_id: str, who: str, what: str, at: datetime) -> None:
        entry = TimelineEntry(at=at, who=who, what=what)
        await self.store.append_timeline(incident_id, entry.model_dump_json())

    async def timeline(self, incident_id: str) -> list[TimelineEntry]:
        return [
            TimelineEntry.model_validate_json(e) for e in await self.store.timeline(incident_id)
        ]

    async def remember_root(self, op_id: str, ts: str) -> None:
        """Note where an incident's root message was posted (called by the outbox)."""
        incident_id = incident_of_root(op_id)
        if incident_id is None:
            return
        async with self.locked_incident(incident_id) as incident:
            if incident is not None:
                incident.slack.root_ts = ts

    @contextlib.asynccontextmanager
    async def locked_incident(self, incident_id: str) -> AsyncIterator[Incident | None]:
        """Load an incident under its group's lock and save what the block changed."""
        current = await self.get(incident_id)
        if current is None:
            yield None
            return
        async with self.locked(current.group_key):
            incident = await self.get(incident_id)
            yield incident
            if incident is not None:
                await self.save(incident)

    @contextlib.asynccontextmanager
    async def locked(self, group_key: str) -> AsyncIterator[None]:
        """Hold the group's lock for the block, renewing it however long the block runs."""
        name = keys.group_lock(group_key)
        token = await acquire(self.store, name, GROUP_LOCK_TTL_SECONDS, wait=LOCK_WAIT_SECONDS)
        if token is None:
            raise IncidentBusy(f"incident group {group_key!r} stayed locked; retry shortly")
        async with kept(self.store, Lease(name, token), GROUP_LOCK_TTL_SECONDS):
            yield
