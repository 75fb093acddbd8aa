"""Working one channel's lane while this process owns it.

The owner renews its lease every third of its life and checks it before every write; when a
renewal fails (or the store is unreachable for longer than the lease), it stops at once, since
another replica may own the lane by then. An empty lane is kept for a moment for more work,
then retired; on shutdown the lease is released so another replica takes over without waiting
for it to lapse.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from bot.outbox.delivery import Delivery
from bot.store.base import StoreUnavailable
from bot.store.keys import LANE_LEASE_SECONDS
from bot.store.outbox_contract import Fence, LaneEntry, LaneLost, OutboxStore

log = structlog.get_logger(__name__)

BATCH = 20
IDLE_POLL_SECONDS = 0.1
LINGER_SECONDS = 1.0


class LaneRunner:
    def __init__(
        self,
        lane: str,
        store: OutboxStore,
        delivery: Delivery,
        consumer: str,
        stopping: asyncio.Event,
        *,
        lease_seconds: float = LANE_LEASE_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self.lane = lane
        self._linger = linger_seconds
        self._store = store
        self._delivery = delivery
        self._consumer = consumer
        self._stopping = stopping
        self._lease = lease_seconds
        self._renewed_at = 0.0
        self._lost = False
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Own and work the lane until it is empty, lost or the process stops."""
        token = await self._store.claim_lane(self.lane, self._lease)
        if token is None:
            return
        self._renewed_at = time.monotonic()
        log.debug("took a channel lane", lane=self.lane, consumer=self._consumer)
        keeper = asyncio.create_task(self._keep(token), name=f"lane-lease-{self.lane}")
        retired = False
        try:
            retired = await self._work(token)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not retired and not self._lost:
                with contextlib.suppress(StoreUnavailable):
                    await self._store.release_lane(self.lane, token)

    def _owned(self) -> bool:
        """Still safely the owner: renewed within the lease, and never told otherwise."""
        return not self._lost and time.monotonic() - self._renewed_at < self._lease * 0.8

    async def _work(self, token: str) -> bool:
        idle_since: float | None = None
        while self._owned() and not self._stopping.is_set():
            entries = await self._store.fetch_lane(self.lane, token, self._consumer, BATCH)
            if entries is None:
                self._lost = True
                return False
            if entries:
                idle_since = None
                await self._deliver(token, entries)
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= self._linger:
                if await self._store.retire_lane(self.lane, token):
                    return True
                idle_since = None
            await self._idle(min(IDLE_POLL_SECONDS, self._linger))
        return False

    async def _deliver(self, token: str, entries: list[LaneEntry]) -> None:
        for entry in entries:
            if not self._owned() or self._stopping.is_set():
                return
            early = entry.not_before - time.time()
            if early > 0:
                await self._pause(early)
                return  # fetch again: the lane may have changed meanwhile
            try:
                pause = await self._delivery.handle(Fence(self.lane, token), entry)
            except LaneLost:
                log.warning("another replica owns this lane now; stopping it", lane=self.lane)
                self._lost = True
                return
            if pause is not None:
                await self._pause(pause)
                return

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _idle(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _keep(self, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                renewed = await self._store.renew_lane(self.lane, token, self._lease)
            except StoreUnavailable:
                continue  # _owned() lapses on its own if this goes on
            if not renewed:
                log.warning("lost a channel lane's lease; stopping it", lane=self.lane)
                self._lost = True
                self._wake.set()
                return
            self._renewed_at = time.monotonic()
