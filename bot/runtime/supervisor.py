"""Keeping a long-lived task alive: restart it with back-off when it fails, say when it is down.

supervised = Supervised("outbox-worker", worker.run, on_state=OUTBOX_WORKER_UP.set)  # 1 / 0
task = asyncio.create_task(supervised.run())
supervised.up        # False while the task is down or waiting to restart
await supervised.stop(worker.stop)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
# A run that lasted this long was healthy: the next failure starts the back-off afresh.
HEALTHY_RUN_SECONDS = 60.0


class Supervised:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        *,
        on_state: Callable[[int], object] | None = None,
        first_delay: float = FIRST_DELAY_SECONDS,
    ) -> None:
        self.name = name
        self._work = work
        self._on_state = on_state
        self._first_delay = first_delay
        self._stopping = False
        self.up = False
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"supervised-{self.name}")
        return self._task

    async def run(self) -> None:
        delay = self._first_delay
        while not self._stopping:
            started = time.monotonic()
            self._set(True)
            try:
                await self._work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "a background task failed; restarting it", task=self.name, after=delay
                )
            else:
                if self._stopping:
                    return
                log.error("a background task ended on its own; restarting it", task=self.name)
            finally:
                self._set(False)
            if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
                delay = self._first_delay
            self.restarts += 1
            await asyncio.sleep(delay)
            delay = min(MAX_DELAY_SECONDS, delay * 2)

    async def stop(self, graceful: Callable[[], Awaitable[None]] | None = None) -> None:
        """Ask the work to end (`graceful`), then cancel what is left."""
        self._stopping = True
        if graceful is not None:
            with contextlib.suppress(Exception):
                await graceful()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _set(self, up: bool) -> None:
        self.up = up
        if self._on_state is not None:
            self._on_state(1 if up else 0)
