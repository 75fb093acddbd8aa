"""A `SignalSource` that replays recorded series, for tests, demos and offline runs.

A recording is JSON::

    {"service": "checkout", "selector": "{service=\\"checkout\\"}",
     "signals": {"eventloop_lag_p99": [{"labels": {}, "points": [[-600, 0.012], [-585, 0.011]]}]},
     "custom": {"queue_depth": [{"labels": {}, "points": [[-600, 3]]}]},
     "missing": {"db_pool_max": "the pool size is not exported"},
     "failures": {"db_op_p99": "timeout after 10s"}}

Timestamps are seconds relative to the end of the window (so `-600` is ten minutes before
it); they are shifted onto whatever window the triage asks for. A series whose values are
timestamps too (a process start time) says `"values_relative_to_end": true`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage.source import Failure, Fetched
from bot.triage.window import Window

RecordedSeries = list[dict[str, Any]]


@dataclass
class RecordedSignalSource:
    signals: dict[str, RecordedSeries]
    custom: dict[str, RecordedSeries] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    selector: str = '{service="recorded"}'
    calls: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedSignalSource:
        return cls(
            signals=dict(data.get("signals", {})),
            custom=dict(data.get("custom", {})),
            missing=dict(data.get("missing", {})),
            failures=dict(data.get("failures", {})),
            selector=str(data.get("selector", '{service="recorded"}')),
        )

    async def fetch(
        self,
        signals: Collection[Signal],
        window: Window,
        custom: Mapping[str, str] | None = None,
    ) -> Fetched:
        self.calls += 1
        result = Fetched()
        wanted = [(s.value, self.signals) for s in signals]
        wanted += [(name, self.custom) for name in custom or {}]
        for key, table in wanted:
            result.queries[key] = f"recorded:{key}"
            if key in self.failures:
                result.failures[key] = Failure(self.failures[key])
            elif key in self.missing:
                result.missing[key] = self.missing[key]
            else:
                result.series[key] = [_shifted(one, window.end) for one in table.get(key, [])]
        return result


def _shifted(recorded: dict[str, Any], end: float) -> RangeSeries:
    base = end if recorded.get("values_relative_to_end") else 0.0
    points = [(end + float(t), base + float(v)) for t, v in recorded.get("points", [])]
    return RangeSeries(labels=dict(recorded.get("labels", {})), points=points)
