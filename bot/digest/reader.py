"""Week-long readings of one service's signals, each a value or the reason there is none.

Averages, ratios and quantiles over the week are single instant queries with a `[1w]` window;
peaks and trends are range queries at one-hour steps, where gauges are read through a
`max_over_time(...[1h:5m])` subquery so a short spike inside an hour is not stepped over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import ServiceSignals
from bot.sources.signals import Signal
from bot.triage.series import combine, finite

HOUR = 3600.0
WEEK_WINDOW = "1w"
HOUR_WINDOW = "1h"
PEAK_SUBQUERY = "[1h:5m]"
UNNAMED = "all"  # a sample without any of the labels asked for


@dataclass(frozen=True)
class NoData:
    reason: str


Points = list[tuple[float, float]]


class WeekReader:
    def __init__(
        self,
        querier: MetricsQuerier,
        *,
        start: float,
        end: float,
        week: ServiceSignals,
        hourly: ServiceSignals,
        selector: str,
    ) -> None:
        self._querier = querier
        self._start = start
        self._end = end
        self._week = week
        self._hourly = hourly
        self._selector = selector

    def absent(self, signal: Signal) -> NoData:
        return NoData(
            f"no `{signal.value}` metric was found under {self._selector}; export it or "
            f"map it in the catalog's `metrics.{signal.value}`"
        )

    async def week_value(self, signal: Signal, *, weeks_ago: int = 0) -> float | NoData:
        """The signal over the whole week (or the one `weeks_ago` before it)."""
        expr = self._week.expr(signal)
        if expr is None:
            return self.absent(signal)
        found = await self.labelled(expr, at=self._end - weeks_ago * 7 * 24 * HOUR)
        if isinstance(found, NoData):
            return found
        return max(value for _, value in found)

    async def labelled(
        self, expr: str, *, at: float | None = None, names: Sequence[str] = ()
    ) -> list[tuple[str, float]] | NoData:
        """Every finite sample of an instant query, named by the first of `names` present."""
        try:
            samples = await self._querier.query(expr, at=self._end if at is None else at)
        except MetricsUnavailable as error:
            return NoData(f"the query failed: {error}")
        found = [(_name(s.labels, names), s.value) for s in samples if math.isfinite(s.value)]
        return found or NoData("Prometheus holds no samples for it this week")

    async def hourly(self, signal: Signal, *, peaks: bool = False) -> Points | NoData:
        """One point per hour over the week: the hour's value, or its peak with `peaks`."""
        expr = self._hourly.expr(signal)
        if expr is None:
            return self.absent(signal)
        if peaks:
            expr = f"max_over_time(({expr}){PEAK_SUBQUERY})"
        try:
            series = await self._querier.query_range(
                expr, start=self._start, end=self._end, step=HOUR
            )
        except MetricsUnavailable as error:
            return NoData(f"the query failed: {error}")
        points = finite(combine(series))
        return points or NoData("Prometheus holds no samples for it this week")


def _name(labels: dict[str, str], preferred: Sequence[str]) -> str:
    for key in preferred:
        if labels.get(key):
            return labels[key]
    return UNNAMED
