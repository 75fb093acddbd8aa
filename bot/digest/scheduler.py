"""The weekly digest on a schedule: one cron job per channel, a catch-up at start, a recheck.

    scheduler = DigestScheduler(catalog, store, composer, outbox=outbox)
    await scheduler.start()   # in the app's start-up
    ...
    await scheduler.stop()    # in its clean-up

Every replica runs the same jobs; `DigestGuard` lets one of them post. A digest whose time has
passed without a "sent" record (the bot was down, or the replica building it crashed) is built
at start-up and by a recheck every `recheck_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.catalog import Catalog, Digest
from bot.digest.guard import DigestGuard, DigestOutcome, DigestStore, Produce
from bot.digest.period import due_period, trigger_for
from bot.outbox.queue import Outbox
from bot.runtime.outages import DEPENDENCY_DOWN, reason
from bot.store import keys

log = structlog.get_logger(__name__)

MISFIRE_GRACE_SECONDS = 3600
RECHECK_SECONDS = 900.0
STOP_GRACE_SECONDS = 10.0
RECHECK_JOB = "digest:recheck"

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def digest_channels(catalog: Catalog) -> dict[str, Digest]:
    """Channels that have at least one service, with their digest schedule."""
    channels = {catalog.channel_for(name) for name in catalog.services}
    return {ch: catalog.digest_for(ch) for ch in sorted(c for c in channels if c is not None)}


class DigestScheduler:
    def __init__(
        self,
        catalog: Catalog,
        store: DigestStore,
        produce: Produce,
        *,
        clock: Clock = _utc_now,
        misfire_grace_seconds: int = MISFIRE_GRACE_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
        outbox: Outbox | None = None,
    ) -> None:
        self._channels = digest_channels(catalog)
        self._store = store
        self._guard = DigestGuard(store, outbox=outbox)
        self._produce = produce
        self._clock = clock
        self._misfire_grace = misfire_grace_seconds
        self._recheck = recheck_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._running: dict[str, asyncio.Task[DigestOutcome | None]] = {}

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    async def start(self) -> None:
        """Add the jobs, start them, and catch up on any digest that is overdue."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        for channel, schedule in self._channels.items():
            scheduler.add_job(
                self._fire,
                trigger_for(schedule),
                args=[channel],
                id=f"digest:{channel}",
                misfire_grace_time=self._misfire_grace,
                coalesce=True,
                max_instances=1,
            )
        scheduler.add_job(self._recheck_all, IntervalTrigger(seconds=self._recheck), id=RECHECK_JOB)
        scheduler.start()
        self._scheduler = scheduler
        log.info("digest_scheduled", channels=list(self._channels))
        await self._recheck_all()

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # the shutdown runs on the loop's next turn
        self._scheduler = None
        running = list(self._running.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait for every digest build started so far (for tests and the CLI)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def run_channel(self, channel: str) -> DigestOutcome | None:
        """Post this week's digest for `channel` if it is due and not sent; None if not due."""
        schedule = self._channels.get(channel)
        since = await self._in_service_since(channel)
        period = due_period(channel, schedule, self._clock()) if schedule else None
        if period is None or period.end < since:
            return None
        try:
            outcome = await self._guard.run_once(period, self._produce)
        except DEPENDENCY_DOWN as error:
            log.warning("digest_failed", channel=channel, week=period.week, reason=reason(error))
            return DigestOutcome.FAILED
        except Exception:
            log.exception("digest_failed", channel=channel, week=period.week)
            return DigestOutcome.FAILED
        log.info("digest_run", channel=channel, week=period.week, outcome=outcome.value)
        return outcome

    async def _in_service_since(self, channel: str) -> datetime:
        """When digests for `channel` were first scheduled. A week whose digest time came
        before that was never owed: a new install waits for the next scheduled time
        instead of posting at once."""
        key = keys.digest_since(channel)
        since = await self._store.get_value(key)
        if since is None:
            since = self._clock().isoformat()
            await self._store.set_value(key, since, None)
        return datetime.fromisoformat(since)

    async def _fire(self, channel: str) -> None:
        self._spawn(channel)

    async def _recheck_all(self) -> None:
        for channel in self._channels:
            self._spawn(channel)

    def _spawn(self, channel: str) -> None:
        if channel in self._running:
            return  # this process is already on it
        task = asyncio.create_task(self.run_channel(channel), name=f"digest:{channel}")
        self._running[channel] = task
        task.add_done_callback(lambda _: self._forget(channel, task))

    def _forget(self, channel: str, task: asyncio.Task[DigestOutcome | None]) -> None:
        if self._running.get(channel) is task:
            del self._running[channel]
        with contextlib.suppress(asyncio.CancelledError):
            task.exception()  # retrieved, so asyncio does not warn about it
