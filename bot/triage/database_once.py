"""The database evidence of one triage, gathered once for whichever step asks first.

    once = DatabaseOnce(ServiceEvidence(service.database, dsn), window_seconds=600)
    evidence = await once.get()    # None when the service has no database in the catalog

Collection starts when the first step that reads it begins, so it overlaps that step's
Prometheus queries. It never raises: a failure is the evidence's `problem` line.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog

from bot.sources.postgres.model import DatabaseEvidence

log = structlog.get_logger(__name__)


class DatabaseSource(Protocol):
    async def collect(self, window_s: float) -> DatabaseEvidence: ...


class DatabaseOnce:
    def __init__(self, source: DatabaseSource | None, window_seconds: float) -> None:
        self._source = source
        self._window_seconds = window_seconds
        self._task: asyncio.Task[DatabaseEvidence] | None = None

    async def get(self) -> DatabaseEvidence | None:
        if self._source is None:
            return None
        if self._task is None:
            self._task = asyncio.ensure_future(self._collect(self._source))
        return await asyncio.shield(self._task)

    async def _collect(self, source: DatabaseSource) -> DatabaseEvidence:
        try:
            return await source.collect(self._window_seconds)
        except Exception as error:  # a bug in the evidence must not end the triage
            log.exception("database_evidence_crashed")
            return DatabaseEvidence(
                problem=f"the database evidence failed ({type(error).__name__})"
            )
