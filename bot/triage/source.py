"""The seam between the engine and a metrics backend: ask for signals, get series back.

A step hands the source every signal its checks read, plus any operator-written PromQL
templates, in one call; the source decides how to batch them. Nothing raised for one
query stops the others: a query that fails is reported in `Fetched.failures`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage.window import Window


@dataclass(frozen=True)
class Failure:
    """Why a query gave nothing; `unreachable` marks a backend that could not be asked at all."""

    reason: str
    unreachable: bool = False


@dataclass(frozen=True)
class Fetched:
    """Series per key (a `Signal` value or a custom query's name) and what went wrong."""

    series: dict[str, list[RangeSeries]] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)

    def get(self, key: str) -> list[RangeSeries]:
        return self.series.get(key, [])

    def has_data(self) -> bool:
        return any(any(one.points for one in found) for found in self.series.values())

    def problem(self, key: str) -> str | None:
        """Why `key` has no usable series, or None when it has some."""
        if key in self.failures:
            return f"query failed: {self.failures[key].reason}"
        if key in self.missing:
            return self.missing[key]
        if not any(one.points for one in self.get(key)):
            return "no samples in the window"
        return None


class SignalSource(Protocol):
    """Where a triage reads its numbers from.

    Example, a source that knows nothing (every check becomes `unknown`)::

        class Empty:
            selector = '{service="checkout"}'

            async def fetch(self, signals, window, custom=None):
                return Fetched(missing={s.value: "not recorded" for s in signals})
    """

    @property
    def selector(self) -> str:
        """The label matchers used for the service, shown when nothing matched."""
        ...

    async def fetch(
        self,
        signals: Collection[Signal],
        window: Window,
        custom: Mapping[str, str] | None = None,
    ) -> Fetched:
        """Range series over `window` for each signal and each custom `name -> template`."""
        ...
