"""This process's share of the outbox: find lanes with work and work those it can own.

Every replica runs one worker. The worker lists the lanes with queued writes (a small sorted set,
never a scan of the queue), and for each lane no local runner works yet it starts one, which
owns the lane if no other replica does. So each channel is written by exactly one replica at a
time, in order and at Slack's pace, and a lane whose owner died is taken over within a lease.

    worker = OutboxWorker(store, delivery)
    outbox.on_enqueue(worker.nudge)
    task = asyncio.create_task(worker.run())
    ...
    await worker.stop()          # finish the write in hand, release the lanes
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

import structlog

from bot.outbox.delivery import Delivery
from bot.outbox.lane import LINGER_SECONDS, LaneRunner
from bot.store.base import StoreUnavailable
from bot.store.keys import LANE_LEASE_SECONDS
from bot.store.outbox_contract import OutboxStore

log = structlog.get_logger(__name__)

DISCOVERY_SECONDS = 0.25
STORE_DOWN_PAUSE_SECONDS = 1.0
MAX_LANES = 100
STOP_GRACE_SECONDS = 5.0


def consumer_name() -> str:
    """Unique per process, readable in XINFO and logs."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class OutboxWorker:
    def __init__(
        self,
        store: OutboxStore,
        delivery: Delivery,
        *,
        consumer: str | None = None,
        lease_seconds: float = LANE_LEASE_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self._linger = linger_seconds
        self._store = store
        self._delivery = delivery
        self.consumer = consumer or consumer_name()
        self._lease = lease_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lanes: dict[str, tuple[LaneRunner, asyncio.Task[None]]] = {}

    @property
    def owned_lanes(self) -> list[str]:
        return sorted(self._lanes)

    def nudge(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()
        for runner, _task in self._lanes.values():
            runner.nudge()

    async def run(self) -> None:
        self._stopping.clear()
        try:
            while not self._stopping.is_set():
                try:
                    await self.start_lanes()
                except StoreUnavailable as error:
                    log.warning("outbox paused: store unavailable", reason=str(error))
                    await self._sleep(STORE_DOWN_PAUSE_SECONDS)
                    continue
                await self._sleep(DISCOVERY_SECONDS)
        finally:
            await self._stop_lanes()

    async def start_lanes(self) -> list[str]:
        """Start a runner for every listed lane not worked here yet; return those started."""
        started = []
        for lane in await self._store.lanes():
            if lane in self._lanes or len(self._lanes) >= MAX_LANES:
                continue
            runner = LaneRunner(
                lane,
                self._store,
                self._delivery,
                self.consumer,
                self._stopping,
                lease_seconds=self._lease,
                linger_seconds=self._linger,
            )
            task = asyncio.create_task(self._run_lane(runner), name=f"outbox-lane-{lane}")
            self._lanes[lane] = (runner, task)
            started.append(lane)
        return started

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Stop taking entries; let each lane finish its write in hand and release its lease."""
        self._stopping.set()
        await self._stop_lanes(grace_seconds)

    async def drain(self, within: float) -> bool:
        """Work until no lane has entries (tests and benchmarks); True if it emptied in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if not await self._store.lanes() and not self._lanes:
                return True
            await self.start_lanes()
            await asyncio.sleep(0.02)
        return False

    async def _run_lane(self, runner: LaneRunner) -> None:
        try:
            await runner.run()
        except StoreUnavailable as error:
            log.warning(
                "a channel lane stopped: store unavailable", lane=runner.lane, reason=str(error)
            )
        except Exception:
            log.exception("a channel lane failed; it will be picked up again", lane=runner.lane)
        finally:
            self._lanes.pop(runner.lane, None)

    async def _stop_lanes(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        tasks = [task for _runner, task in self._lanes.values()]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
