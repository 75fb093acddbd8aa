"""Where parsed alerts go: the one interface between the webhook routes and the incident layer."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, NonNegativeInt

from bot.alerts.model import AlertBatch


class AcceptResult(BaseModel):
    """What became of a batch: alerts newly stored, and deliveries already seen before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accepted: NonNegativeInt
    duplicates: NonNegativeInt = 0


class AlertSink(Protocol):
    """Stores alert batches durably before the sender is told they arrived.

    ``accept`` returns only once every alert of the batch is kept (or recognised by its
    ``dedupe_key`` as already kept), and raises ``bot.store.base.StoreUnavailable`` when it
    cannot store them, so the webhook can ask the sender to retry.

    Example::

        class IncidentIntake:
            async def accept(self, batch: AlertBatch) -> AcceptResult:
                fresh = [a for a in batch.alerts if await self._store.claim_once(a.dedupe_key, TTL)]
                ...
                return AcceptResult(accepted=len(fresh), duplicates=len(batch.alerts) - len(fresh))
    """

    async def accept(self, batch: AlertBatch) -> AcceptResult: ...
