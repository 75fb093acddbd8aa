"""Delivers queued Slack writes: one lane per channel, in order, at Slack's pace.

Entries are leased from the store; an entry is acknowledged only after Slack accepted it (or
refused it for good), so a crash leaves it leased and another worker resumes it when the lease
runs out. The client paces posts (one per second per channel) and retries 429s and 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from enum import Enum

import structlog

from bot.outbox.ops import AnyOp, decode
from bot.store.base import Store, StoreUnavailable
from bot.store.keys import OUTBOX_LEASE_SECONDS

log = structlog.get_logger(__name__)

Op = AnyOp


class Outcome(Enum):
    DONE = "done"  # delivered, or refused for good: acknowledge
    LATER = "later"  # a dependency is missing (no root yet): queue it again at the back
    RETRY = "retry"  # a transient failure: leave it leased, it comes back after the lease


Deliver = Callable[[Op], Awaitable[Outcome]]
ChannelOf = Callable[[Op], Awaitable[str]]

IDLE_POLL_SECONDS = 0.25
CLAIM_BATCH = 50


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        deliver: Deliver,
        channel_of: ChannelOf,
        *,
        lease_seconds: float = OUTBOX_LEASE_SECONDS,
    ) -> None:
        self._store = store
        self._deliver = deliver
        self._channel_of = channel_of
        self._lease = lease_seconds
        self._consumer = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                delivered = await self.run_once()
            except StoreUnavailable as error:
                log.warning("outbox paused: store unavailable", reason=str(error))
                delivered = 0
                await asyncio.sleep(1.0)
            if delivered == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; return how many entries were handled."""
        entries = await self._store.outbox_claim(self._consumer, self._lease, CLAIM_BATCH)
        lanes: dict[str, list[tuple[str, Op]]] = defaultdict(list)
        for entry_id, item in entries:
            op = decode(item)
            lanes[await self._channel_of(op)].append((entry_id, op))
        handled = await asyncio.gather(*(self._run_lane(lane) for lane in lanes.values()))
        return sum(handled)

    async def _run_lane(self, lane: list[tuple[str, Op]]) -> int:
        handled = 0
        for entry_id, op in lane:
            outcome = await self._attempt(op)
            if outcome is Outcome.RETRY:
                break  # keep this channel's order: later entries wait for this one
            if outcome is Outcome.LATER:
                await self._store.outbox_push(op.model_dump_json())
            await self._store.outbox_ack(entry_id)
            # Requeued entries do not count, so waiting on a missing root never spins.
            handled += outcome is Outcome.DONE
        return handled

    async def _attempt(self, op: Op) -> Outcome:
        try:
            return await self._deliver(op)
        except StoreUnavailable:
            raise
        except Exception:
            log.exception("Slack delivery failed; will retry after the lease", op=op.op)
            return Outcome.RETRY
