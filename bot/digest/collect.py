"""Gather one service's week from Prometheus into `ServiceFigures` (queries run concurrently)."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from typing import Any

from bot.catalog import Service
from bot.digest.figures import (
    STEADY_R_SQUARED,
    Availability,
    Chart,
    EventLoop,
    Growth,
    Incidents,
    Latency,
    LatencyQuantile,
    Memory,
    Missing,
    Pool,
    Ranked,
    ServiceFigures,
    Throughput,
)
from bot.digest.reader import HOUR_WINDOW, UNNAMED, WEEK_WINDOW, NoData, Points, WeekReader
from bot.grading import Grading
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import conventions_in_order, resolve_signals
from bot.sources.nodejs_conventions import (
    DOWNSTREAM_LABELS,
    LEGACY_DOWNSTREAM_LABELS,
)
from bot.sources.promql import Selector, matchers_from
from bot.sources.recipes import Quantile, Scope
from bot.sources.signals import Signal
from bot.triage.series import trend

ROUTE_LABELS = ("route", "path", "http_route")
DOWNSTREAM_NAMES = (*DOWNSTREAM_LABELS[:1], *LEGACY_DOWNSTREAM_LABELS[:1])
TOP = 3


async def collect_service(
    querier: MetricsQuerier,
    service: Service,
    *,
    start: float,
    end: float,
    incidents: Incidents | Missing,
    grading: Grading | None = None,
) -> ServiceFigures:
    grading = grading or Grading()
    selector = str(Selector(None, matchers_from(service.selector)))
    try:
        names = frozenset(await querier.series_names(dict(service.selector)))
    except MetricsUnavailable as error:
        return without_metrics(service.name, f"Prometheus could not be asked: {error}", incidents)
    if not names:
        reason = f"Prometheus holds no series under {selector}; check the selector in the catalog"
        return without_metrics(service.name, reason, incidents, reachable=True)
    week = resolve_signals(names, service.selector, service.metrics, WEEK_WINDOW)
    hourly = resolve_signals(names, service.selector, service.metrics, HOUR_WINDOW)
    reader = WeekReader(querier, start=start, end=end, week=week, hourly=hourly, selector=selector)
    endpoints_expr = _per_route_p99(service, names)
    parts: Sequence[Any] = await asyncio.gather(
        _throughput(reader, service),
        _availability(reader, service),
        _latency(reader, service),
        _event_loop(reader, grading),
        _single(reader, Signal.GC_TIME_RATIO, "gc"),
        _memory(reader),
        _pool(reader, service),
        _ranked(reader, endpoints_expr, ROUTE_LABELS, "endpoints"),
        _ranked(reader, week.expr(Signal.DOWNSTREAM_P99), DOWNSTREAM_NAMES, "downstreams"),
        reader.hourly(Signal.LATENCY_P99),
    )
    throughput, availability, latency, (loop, lag_points), gc, memory, pool, top, down, p99 = parts
    chart = Chart(p99=_points(p99), lag_p99=_points(lag_points))
    return ServiceFigures(
        service.name, throughput, availability, latency, loop, gc, memory, pool, top, down,
        incidents, chart, grading=grading,
    )  # fmt: skip


def without_metrics(
    name: str, reason: str, incidents: Incidents | Missing, *, reachable: bool = False
) -> ServiceFigures:
    def gone(topic: str) -> Missing:
        return Missing(topic, reason)

    return ServiceFigures(
        name, gone("throughput"), gone("availability"), gone("latency"), gone("event loop"),
        gone("gc"), gone("memory"), gone("pool"), gone("endpoints"), gone("downstreams"),
        incidents, unreachable=not reachable,
    )  # fmt: skip


def _points(found: Points | NoData) -> Points:
    return [] if isinstance(found, NoData) else found


def _missing(topic: str, found: NoData) -> Missing:
    return Missing(topic, found.reason)


async def _single(reader: WeekReader, signal: Signal, topic: str) -> float | Missing:
    found = await reader.week_value(signal)
    return _missing(topic, found) if isinstance(found, NoData) else found


async def _throughput(reader: WeekReader, service: Service) -> Throughput | Missing:
    average, hourly = await asyncio.gather(
        reader.week_value(Signal.REQUEST_RATE), reader.hourly(Signal.REQUEST_RATE)
    )
    if isinstance(average, NoData):
        return _missing("throughput", average)
    peak = None if isinstance(hourly, NoData) else max(v for _, v in hourly)
    return Throughput(average, peak, service.slo.peak_rps)


async def _availability(reader: WeekReader, service: Service) -> Availability | Missing:
    ratio = await reader.week_value(Signal.ERROR_RATIO)
    if isinstance(ratio, NoData):
        return _missing("availability", ratio)
    return Availability(ratio, service.slo.availability_percent)


_QUANTILES = ((Signal.LATENCY_P50, "p50"), (Signal.LATENCY_P95, "p95"), (Signal.LATENCY_P99, "p99"))


async def _latency(reader: WeekReader, service: Service) -> Latency | Missing:
    targets = (service.slo.p50_ms, service.slo.p95_ms, service.slo.p99_ms)
    readings = await asyncio.gather(
        *(reader.week_value(signal, weeks_ago=ago) for signal, _ in _QUANTILES for ago in (0, 1))
    )
    quantiles = []
    for index, (_, name) in enumerate(_QUANTILES):
        now, before, target_ms = readings[2 * index], readings[2 * index + 1], targets[index]
        target = target_ms / 1000 if target_ms else None
        quantiles.append(LatencyQuantile(name, _value(now), _value(before), target))
    if all(q.seconds is None for q in quantiles):
        p99_reading = readings[4]
        reason = p99_reading if isinstance(p99_reading, NoData) else NoData("no latency data")
        return _missing("latency", reason)
    return Latency(tuple(quantiles))


def _value(found: float | NoData) -> float | None:
    return None if isinstance(found, NoData) else found


async def _event_loop(
    reader: WeekReader, grading: Grading
) -> tuple[EventLoop | Missing, Points | NoData]:
    p99, worst = await asyncio.gather(
        reader.hourly(Signal.EVENTLOOP_LAG_P99, peaks=True),
        reader.hourly(Signal.EVENTLOOP_LAG_MAX, peaks=True),
    )
    if isinstance(p99, NoData) and isinstance(worst, NoData):
        return _missing("event loop", p99), p99
    p99_values = [] if isinstance(p99, NoData) else [v for _, v in p99]
    max_values = [] if isinstance(worst, NoData) else [v for _, v in worst]
    loop = EventLoop(
        p99_typical_s=statistics.median(p99_values) if p99_values else None,
        p99_worst_s=max(p99_values, default=None),
        max_worst_s=max(max_values, default=None),
        hours_over_bad=sum(1 for v in p99_values if v >= grading.lag_warn_s),
    )
    return loop, p99


async def _memory(reader: WeekReader) -> Memory | Missing:
    heap, rss = await asyncio.gather(reader.hourly(Signal.HEAP_USED), reader.hourly(Signal.RSS))
    if isinstance(heap, NoData) and isinstance(rss, NoData):
        return _missing("memory", heap)
    return Memory(_growth(heap), _growth(rss))


def _growth(points: Points | NoData) -> Growth | None:
    if isinstance(points, NoData):
        return None
    line = trend(points)
    if line is None:
        return None
    return Growth(line.first, line.last, line.growth, line.r_squared >= STEADY_R_SQUARED)


async def _pool(reader: WeekReader, service: Service) -> Pool | Missing:
    used, pending, size = await asyncio.gather(
        reader.hourly(Signal.DB_POOL_USED, peaks=True),
        reader.hourly(Signal.DB_POOL_PENDING, peaks=True),
        reader.week_value(Signal.DB_POOL_MAX),
    )
    if isinstance(used, NoData) and isinstance(pending, NoData):
        return _missing("pool", used)
    waiting = None if isinstance(pending, NoData) else [v for _, v in pending]
    return Pool(
        peak_used=None if isinstance(used, NoData) else max(v for _, v in used),
        size=service.slo.pool_size or _value(size),
        hours_waiting=None if waiting is None else sum(1 for v in waiting if v > 0),
        peak_waiting=None if waiting is None else max(waiting),
    )


async def _ranked(
    reader: WeekReader, expr: str | NoData | None, names: Sequence[str], topic: str
) -> Ranked | Missing:
    if isinstance(expr, NoData):
        return _missing(topic, expr)
    if expr is None:
        signal = Signal.LATENCY_P99 if topic == "endpoints" else Signal.DOWNSTREAM_P99
        return _missing(topic, reader.absent(signal))
    found = await reader.labelled(expr, names=names)
    if isinstance(found, NoData):
        return _missing(topic, found)
    found = [pair for pair in found if pair[0] != UNNAMED]
    if not found:
        labels = " or ".join(f"`{label}`" for label in names)
        return Missing(topic, f"the histogram carries no {labels} label to tell them apart")
    slowest = sorted(found, key=lambda pair: pair[1], reverse=True)[:TOP]
    return Ranked(tuple(slowest))


def _per_route_p99(service: Service, names: frozenset[str]) -> str | NoData | None:
    """The week's p99 per route from the request histogram the service's convention uses."""
    if Signal.LATENCY_P99 in service.metrics:
        return NoData("latency comes from a catalog override, which has no per-route breakdown")
    for convention in conventions_in_order(names):
        for recipe in convention.recipes.get(Signal.LATENCY_P99, ()):
            if isinstance(recipe, Quantile) and recipe.required <= names:
                by_route = Quantile(recipe.buckets, 0.99, recipe.scale, ROUTE_LABELS)
                return by_route.build(Scope(matchers_from(service.selector), "7d")).text
    return None
