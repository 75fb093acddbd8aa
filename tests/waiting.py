"""Wait for a condition instead of sleeping and hoping.

    await eventually(lambda: len(sent) == 2)
    await eventually(incident_is_acknowledged, within=5, what="the owner's acknowledgement")

`check` may be a plain or an async function; it is asked again every `every` seconds until it
returns something true, and the wait fails with `what` in the message after `within` seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Check = Callable[[], object] | Callable[[], Awaitable[object]]


async def eventually(
    check: Check, within: float = 20.0, *, every: float = 0.05, what: str = "the condition"
) -> None:
    deadline = time.monotonic() + within
    while not await _holds(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held within {within:g} s")
        await asyncio.sleep(every)


async def _holds(check: Check) -> bool:
    answer = check()
    if inspect.isawaitable(answer):
        answer = await answer
    return bool(answer)


def holds(check: Callable[[], object]) -> Callable[[], bool]:
    """A condition that is false (not an error) while the thing it looks at is missing."""

    def safe() -> bool:
        try:
            return bool(check())
        except (ValueError, IndexError, KeyError):
            return False

    return safe
