"""Incident documents in the store, with a per-group lock for read-modify-write."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from bot.incidents.model import Incident, TimelineEntry
from bot.outbox.ops import AnyOp, SyncChecklist, SyncRoot, encode
from bot.store.base import Store, StoreUnavailable

LOCK_TTL_SECONDS = 15.0
LOCK_WAIT_SECONDS = 10.0
REOPEN_WINDOW_SECONDS = 30 * 60.0
# A queued sync that was never delivered stops blocking new ones after this long.
PENDING_SYNC_TTL_SECONDS = 300.0


class IncidentBusy(StoreUnavailable):
    """Another writer held the incident's lock for too long; the caller should retry."""


class IncidentRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._listeners: list[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever Slack writes are queued (the outbox worker wakes up)."""
        self._listeners.append(listener)

    async def get(self, incident_id: str) -> Incident | None:
        document = await self.store.get_incident(incident_id)
        return Incident.model_validate_json(document) if document else None

    async def open_for_group(self, group_key: str) -> Incident | None:
        incident_id = await self.store.incident_for_group(group_key)
        return await self.get(incident_id) if incident_id else None

    async def recently_resolved(self, group_key: str) -> Incident | None:
        incident_id = await self.store.get_value(_resolved_key(group_key))
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
                _resolved_key(incident.group_key), incident.id, REOPEN_WINDOW_SECONDS
            )

    async def open_incidents(self) -> list[Incident]:
        found = [
            await self.get(incident_id) for incident_id in await self.store.open_incident_ids()
        ]
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

    async def enqueue(self, *ops: AnyOp) -> None:
        """Queue Slack writes. A sync of a message already queued is not queued again: the
        worker renders the incident as it is when it sends, so one sync covers every change."""
        for op in ops:
            if isinstance(op, SyncRoot | SyncChecklist):
                await self._enqueue_sync(op)
            else:
                await self.store.outbox_push(encode(op))
        for listener in self._listeners:
            listener()

    async def _enqueue_sync(self, op: SyncRoot | SyncChecklist) -> None:
        if not await self.store.claim_once(_pending_key(op), PENDING_SYNC_TTL_SECONDS):
            return
        try:
            await self.store.outbox_push(encode(op))
        except StoreUnavailable:
            # The sync was not queued: its claim must not block the sender's retry.
            with contextlib.suppress(StoreUnavailable):
                await self.store.release_claim(_pending_key(op))
            raise

    async def begin_sync(self, op: SyncRoot | SyncChecklist) -> None:
        """Called by the worker before it reads the incident: later changes queue a new sync."""
        await self.store.release_claim(_pending_key(op))

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
        name = f"incident-group:{group_key}"
        token = await self._wait_for_lock(name)
        try:
            yield
        finally:
            with contextlib.suppress(StoreUnavailable):
                await self.store.release_lock(name, token)

    async def _wait_for_lock(self, name: str) -> str:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            token = await self.store.acquire_lock(name, LOCK_TTL_SECONDS)
            if token is not None:
                return token
            if time.monotonic() > deadline:
                raise IncidentBusy(f"incident group {name!r} stayed locked; retry shortly")
            await asyncio.sleep(0.02)


def _pending_key(op: SyncRoot | SyncChecklist) -> str:
    return f"pending-sync:{op.op}:{op.incident_id}"


def _resolved_key(group_key: str) -> str:
    return f"resolved-group:{group_key}"
