"""Background work that outlives a request: tracked, bounded on shutdown, failures reported."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from bot.runtime.outages import DEPENDENCY_DOWN, reason

log = structlog.get_logger(__name__)

FailureReporter = Callable[[BaseException], Awaitable[None]]


class TaskTracker:
    """Keeps a strong reference to every background task so none is garbage-collected mid-flight."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    @property
    def active(self) -> int:
        return len(self._tasks)

    def spawn(
        self,
        work: Coroutine[Any, Any, Any],
        *,
        name: str,
        on_failure: FailureReporter | None = None,
    ) -> asyncio.Task[Any]:
        if self._closing:
            work.close()
            raise RuntimeError("the bot is shutting down and takes no new background work")
        task = asyncio.create_task(self._guarded(work, name, on_failure), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(
        self, work: Coroutine[Any, Any, Any], name: str, on_failure: FailureReporter | None
    ) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except DEPENDENCY_DOWN as error:
            log.warning(
                "background task stopped: a dependency is down", task=name, reason=reason(error)
            )
            if on_failure is not None:
                await _report(on_failure, error, name)
        except Exception as error:
            log.exception("background task failed", task=name)
            if on_failure is not None:
                await _report(on_failure, error, name)

    async def settle(self, within: float) -> int:
        """Wait for the tasks running now (and those they start) without closing; return how
        many are still running after `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())
        return len(self._tasks)

    async def drain(self, grace_seconds: float) -> int:
        """Stop taking work, wait for running tasks, cancel what is left; return how many."""
        self._closing = True
        if not self._tasks:
            return 0
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        return len(pending)


async def _report(on_failure: FailureReporter, error: BaseException, name: str) -> None:
    try:
        await on_failure(error)
    except Exception:
        log.exception("could not report a background failure", task=name)
