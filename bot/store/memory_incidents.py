"""Incident documents, timelines and firing sets in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.store.base import FiringChange
from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS
from bot.store.memory_base import Clock, Entry, MemoryBase


@dataclass
class _Timeline:
    entries: list[str] = field(default_factory=list)
    expires_at: float | None = None


@dataclass
class _Firing:
    alerts: dict[str, str] = field(default_factory=dict)
    received: set[str] = field(default_factory=set)
    expires_at: float | None = None


class MemoryIncidents(MemoryBase):
    def __init__(self, *, clock: Clock, wall_clock: Clock) -> None:
        super().__init__(clock=clock, wall_clock=wall_clock)
        self._opened_at: dict[str, float] = {}
        self._timelines: dict[str, _Timeline] = {}
        self._firing: dict[str, _Firing] = {}
        self._open: dict[str, int] = {}
        self._sequence = 0

    def held_key_count(self) -> int:
        """Keys held in memory, including expired ones not yet swept."""
        return len(self._strings) + len(self._timelines) + len(self._firing)

    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        if open:
            self._open_incident(incident_id, group_key, document)
        else:
            self._resolve_incident(incident_id, group_key, document)

    async def get_incident(self, incident_id: str) -> str | None:
        return self._get(self._keys.incident(incident_id))

    async def incident_for_group(self, group_key: str) -> str | None:
        return self._get(self._keys.incident_group(group_key))

    async def open_incident_ids(self) -> list[str]:
        self._check_open()
        return sorted(self._open, key=self._open.__getitem__, reverse=True)

    async def create_incident_if_absent(
        self, group_key: str, incident_id: str, document: str
    ) -> str:
        owner = self._get(self._keys.incident_group(group_key))
        if owner is not None:
            return owner
        self._open_incident(incident_id, group_key, document)
        self._note_opened(incident_id)
        return incident_id

    def _note_opened(self, incident_id: str) -> None:
        now = self._wall_clock()
        self._opened_at.setdefault(incident_id, now)
        horizon = now - RESOLVED_INCIDENT_TTL_SECONDS
        for stale in [i for i, at in self._opened_at.items() if at < horizon]:
            del self._opened_at[stale]

    async def incident_ids_opened_since(self, since: float) -> list[str]:
        self._check_open()
        found = [(at, i) for i, at in self._opened_at.items() if at >= since]
        return [incident_id for _, incident_id in sorted(found)]

    async def append_timeline(self, incident_id: str, entry: str) -> None:
        self._wrote()
        timeline = self._live_timeline(incident_id) or _Timeline()
        timeline.entries.append(entry)
        timeline.expires_at = self._document_expiry(incident_id)
        self._timelines[incident_id] = timeline

    async def timeline(self, incident_id: str) -> list[str]:
        timeline = self._live_timeline(incident_id)
        return list(timeline.entries) if timeline else []

    async def update_firing(
        self, incident_id: str, firing: Mapping[str, str], cleared: Sequence[str]
    ) -> FiringChange:
        self._wrote()
        current = self._live_firing(incident_id) or _Firing()
        current.alerts.update(firing)
        current.received.update(firing)
        for fingerprint in cleared:
            current.alerts.pop(fingerprint, None)
        current.expires_at = self._document_expiry(incident_id)
        if current.received:
            self._firing[incident_id] = current
        return FiringChange(firing=len(current.alerts), received=len(current.received))

    async def firing_fingerprints(self, incident_id: str) -> dict[str, str]:
        current = self._live_firing(incident_id)
        return dict(current.alerts) if current else {}

    def _document_expiry(self, incident_id: str) -> float | None:
        document = self._live_entry(self._keys.incident(incident_id))
        return document.expires_at if document else None

    def _open_incident(self, incident_id: str, group_key: str, document: str) -> None:
        self._wrote()
        self._strings[self._keys.incident(incident_id)] = Entry(document)
        self._strings[self._keys.incident_group(group_key)] = Entry(incident_id)
        if incident_id not in self._open:
            self._sequence += 1
            self._open[incident_id] = self._sequence
        for kept in (self._timelines.get(incident_id), self._firing.get(incident_id)):
            if kept is not None:
                kept.expires_at = None

    def _resolve_incident(self, incident_id: str, group_key: str, document: str) -> None:
        self._wrote()
        expires_at = self._now() + RESOLVED_INCIDENT_TTL_SECONDS
        self._strings[self._keys.incident(incident_id)] = Entry(document, expires_at)
        self._open.pop(incident_id, None)
        group = self._keys.incident_group(group_key)
        if self._get(group) == incident_id:
            self._delete(group)
        for kept in (self._live_timeline(incident_id), self._live_firing(incident_id)):
            if kept is not None:
                kept.expires_at = expires_at

    def _live_timeline(self, incident_id: str) -> _Timeline | None:
        self._check_open()
        timeline = self._timelines.get(incident_id)
        if timeline is not None and self._expired(timeline.expires_at):
            del self._timelines[incident_id]
            return None
        return timeline

    def _live_firing(self, incident_id: str) -> _Firing | None:
        self._check_open()
        current = self._firing.get(incident_id)
        if current is not None and self._expired(current.expires_at):
            del self._firing[incident_id]
            return None
        return current

    def _sweep(self) -> None:
        super()._sweep()
        self._timelines = {
            k: t for k, t in self._timelines.items() if not self._expired(t.expires_at)
        }
        self._firing = {k: f for k, f in self._firing.items() if not self._expired(f.expires_at)}
