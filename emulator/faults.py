"""Faults a test can inject: the next N calls to a method fail with a 5xx or answer late."""

from __future__ import annotations

from dataclasses import dataclass

ANY_METHOD = "*"


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
