"""Faults a test can inject: the next N calls to a method fail with a 5xx or answer late."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

ANY_METHOD = "*"
WRITE_METHODS = frozenset({"chat.postMessage", "files.completeUploadExternal"})


@dataclass
class Fault:
    """Applies to the next `remaining` calls of `method` (or of every method for "*")."""

    method: str
    remaining: int
    status: int | None = None  # an HTTP 5xx status, or None to answer normally
    delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.remaining < 1:
            raise ValueError("count must be at least 1")
        if self.status is not None and not 500 <= self.status <= 599:
            raise ValueError("status must be a 5xx HTTP status")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")


class FaultPlan:
    """Queued faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def fail_next(self, method: str, count: int = 1, status: int = 500) -> None:
        """The next `count` calls to `method` answer `status` (Slack's 5xx) without effect."""
        self._faults.append(Fault(method, count, status=status))

    def delay_next(self, method: str, count: int = 1, seconds: float = 1.0) -> None:
        """The next `count` calls to `method` wait `seconds` before being handled."""
        self._faults.append(Fault(method, count, delay_seconds=seconds))

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if any, counting it as used."""
        for fault in self._faults:
            if fault.method in (method, ANY_METHOD):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None


class LostReplies:
    """A share of successful writes whose answer never reaches the caller: the emulator keeps
    the message (as Slack would), then drops the connection before replying, as when a reply
    is lost on the wire or the caller dies first.

    Example: ``state.lost_replies.configure(share=0.1, seed=7)``.
    """

    def __init__(self) -> None:
        self.share = 0.0
        self.methods: frozenset[str] = WRITE_METHODS
        self.lost: list[str] = []
        self._random = random.Random(0)

    def configure(
        self, share: float, *, methods: Iterable[str] = WRITE_METHODS, seed: int = 0
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        self.share = share
        self.methods = frozenset(methods)
        self._random = random.Random(seed)

    def cut(self, method: str) -> bool:
        """Whether to drop the answer to this successful call (and note it)."""
        if self.share <= 0 or method not in self.methods:
            return False
        if self._random.random() >= self.share:
            return False
        self.lost.append(method)
        return True
