"""`/health`'s lines: each golden signal of a service right now, graded as the triage grades
it (`bot.grading`) and worded for Slack."""

from __future__ import annotations

from bot.catalog import Service
from bot.grading import Grade, Grading, burn_rate, error_budget, worst
from bot.slack.render.health import Line, mib, ms, percent
from bot.sources.readings import Readings
from bot.sources.signals import Signal


def health_lines(
    service: Service, readings: Readings, grading: Grading | None = None
) -> list[Line]:
    """Each golden signal's line, graded as the triage grades it (`bot.grading`)."""
    grading = grading or Grading()
    if readings.empty:
        return [Line("No data", "Prometheus holds none of this service's signals.", "unknown")]
    lines = [_traffic(service, readings, grading), _errors(service, readings, grading)]
    lines += [latency_line(service, readings, grading), _lag(readings, grading)]
    lines += [_memory(readings), _pool(service, readings, grading)]
    return [line for line in lines if line is not None]


def _traffic(service: Service, readings: Readings, grading: Grading) -> Line | None:
    rate = readings.value(Signal.REQUEST_RATE)
    if rate is None:
        return None
    peak = service.slo.peak_rps
    if peak is None:
        return Line("Traffic", f"{rate:.1f} req/s")
    return Line(
        "Traffic",
        f"{rate:.1f} req/s ({rate / peak:.0%} of the {peak:g} req/s peak)",
        grading.traffic(rate, peak),
    )


def _errors(service: Service, readings: Readings, grading: Grading) -> Line | None:
    ratio = readings.value(Signal.ERROR_RATIO)
    if ratio is None:
        return None
    target = service.slo.availability_percent
    status = grading.error_ratio(ratio, target)
    budget, burn = error_budget(target), burn_rate(ratio, target)
    if budget is None:
        return Line("Errors", f"{percent(ratio)} of requests", status)
    allowance = f"SLO allows {percent(budget, 3)}, burn {burn or 0.0:.1f}×"
    return Line("Errors", f"{percent(ratio)} ({allowance})", status)


def latency_line(service: Service, readings: Readings, grading: Grading) -> Line | None:
    """p50/p95/p99 against the catalog's objectives; None without any latency reading."""
    parts: list[str] = []
    grades: list[Grade] = []
    for name, signal, target_ms in (
        ("p50", Signal.LATENCY_P50, service.slo.p50_ms),
        ("p95", Signal.LATENCY_P95, service.slo.p95_ms),
        ("p99", Signal.LATENCY_P99, service.slo.p99_ms),
    ):
        value = readings.value(signal)
        if value is None:
            continue
        parts.append(f"{name} {ms(value)}" + (f" / {target_ms:g} ms" if target_ms else ""))
        if target_ms:
            grades.append(grading.latency(value, target_ms / 1000))
    if not parts:
        return None
    return Line("Latency", " · ".join(parts), worst(grades) if grades else None)


def _lag(readings: Readings, grading: Grading) -> Line | None:
    lag = readings.value(Signal.EVENTLOOP_LAG_P99)
    if lag is None:
        return None
    return Line("Event-loop lag", f"p99 {ms(lag)}", grading.lag(lag))


def _memory(readings: Readings) -> Line | None:
    heap, rss = readings.value(Signal.HEAP_USED), readings.value(Signal.RSS)
    parts = [f"heap {mib(heap)}"] if heap is not None else []
    parts += [f"RSS {mib(rss)}"] if rss is not None else []
    return Line("Memory", " · ".join(parts)) if parts else None


def _pool(service: Service, readings: Readings, grading: Grading) -> Line | None:
    used = readings.value(Signal.DB_POOL_USED)
    if used is None:
        return None
    size = readings.value(Signal.DB_POOL_MAX) or service.slo.pool_size
    pending = readings.value(Signal.DB_POOL_PENDING) or 0.0
    text = f"{used:.0f}" + (f" of {size:.0f}" if size else "") + " connections in use"
    if pending:
        text += f", {pending:.0f} waiting"
    return Line("DB pool", text, grading.pool(used, size, pending))
