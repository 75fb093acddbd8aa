"""`/health SERVICE`: the golden signals right now, each held against the service's SLO."""

from __future__ import annotations

from bot.catalog import Service
from bot.grading import Grade, Grading, burn_rate, error_budget, worst
from bot.models import Status
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.common import (
    Invalid,
    Invocation,
    authorized,
    known_service,
    tell,
)
from bot.slack.deps import Deps
from bot.slack.render.health import Line, mib, ms, overall, percent, signal_message
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable
from bot.sources.readings import Readings, read_signals
from bot.sources.signals import Signal

RATE_WINDOW_SECONDS = 300

SIGNALS = (
    Signal.REQUEST_RATE,
    Signal.ERROR_RATIO,
    Signal.LATENCY_P50,
    Signal.LATENCY_P95,
    Signal.LATENCY_P99,
    Signal.EVENTLOOP_LAG_P99,
    Signal.HEAP_USED,
    Signal.RSS,
    Signal.DB_POOL_USED,
    Signal.DB_POOL_MAX,
    Signal.DB_POOL_PENDING,
)

USAGE = "\n".join(
    [
        "*`/health SERVICE`* shows one service's golden signals right now (last 5 minutes)",
        "against its SLO: traffic, errors, p50/p95/p99 latency, event-loop lag, memory and",
        "the database pool. Only you see the answer.",
        "",
        "Examples: `/health checkout`, `/health help`",
    ]
)


def accept(deps: Deps, call: Invocation) -> Accepted:
    if len(call.words) > 1:
        raise Invalid(f"`/health` takes one service name.\n\n{USAGE}")
    service = known_service(deps, call.words[0], USAGE)
    return Accepted(
        f":stethoscope: Reading the signals of {code(service.name)}…",
        f"The health of {service.name}",
        lambda: report_health(deps, call, service),
    )


async def report_health(deps: Deps, call: Invocation, service: Service) -> None:
    if not await authorized(deps, call, "health", service.owners):
        return
    if deps.prometheus is None:
        await tell(call.respond, "`/health` needs Prometheus: set PROMETHEUS_URL for the bot.")
        return
    try:
        readings = await read_signals(
            deps.prometheus, service, SIGNALS, seconds=RATE_WINDOW_SECONDS
        )
    except MetricsUnavailable as error:
        await tell(call.respond, f":x: Prometheus could not be asked: {escape(str(error))}")
        return
    lines = health_lines(service, readings, deps.grading)
    worst = overall(lines)
    await deps.home.marks.record(service.name, worst, _note(worst))
    text, blocks = signal_message(
        f"{service.name} right now",
        lines,
        "Last 5 minutes · worst instance for per-process signals",
    )
    await tell(call.respond, text, blocks)


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


def _note(status: Status) -> str:
    words = {"ok": "healthy", "warn": "needs a look", "crit": "unhealthy", "unknown": "no data"}
    return f"/health: {words[status]}"


COMMAND = SlashCommand("/health", USAGE, accept)
