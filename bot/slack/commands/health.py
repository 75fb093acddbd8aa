"""`/health SERVICE`: the golden signals right now, each held against the service's SLO."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.catalog import Service
from bot.models import Status
from bot.slack.commands.common import (
    Invalid,
    Invocation,
    after_ack,
    answer,
    authorized,
    invocation,
    known_service,
    tell,
)
from bot.slack.commands.readings import Readings, read_signals
from bot.slack.deps import Deps
from bot.slack.render.health import Line, mib, ms, overall, percent, signal_message, worst
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable
from bot.sources.signals import Signal

RATE_WINDOW_SECONDS = 300
LAG_WARN_S = 0.100
LAG_CRIT_S = 0.500
POOL_BUSY = 0.9
LATENCY_CRIT_FACTOR = 1.5
UNTARGETED_ERRORS_WARN = 0.01
UNTARGETED_ERRORS_CRIT = 0.05
FAST_BURN = 14.4  # at this burn rate a 30-day error budget is gone in about two days

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


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_health(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        call = invocation("/health", command, respond)
        if call.wants_help:
            await answer(ack, USAGE)
            return
        try:
            if len(call.words) > 1:
                raise Invalid(f"`/health` takes one service name.\n\n{USAGE}")
            service = known_service(deps, call.words[0], USAGE)
        except Invalid as problem:
            await answer(ack, str(problem))
            return
        await answer(ack, f":stethoscope: Reading the signals of {code(service.name)}…")
        after_ack(deps, call, report_health(deps, call, service), f"The health of {service.name}")

    app.command("/health")(on_health)


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
    lines = health_lines(service, readings)
    worst = overall(lines)
    await deps.home.marks.record(service.name, worst, _note(worst))
    text, blocks = signal_message(
        f"{service.name} right now",
        lines,
        "Last 5 minutes · worst instance for per-process signals",
    )
    await tell(call.respond, text, blocks)


def health_lines(service: Service, readings: Readings) -> list[Line]:
    if readings.empty:
        return [Line("No data", "Prometheus holds none of this service's signals.", "unknown")]
    lines = [_traffic(service, readings), _errors(service, readings), _latency(service, readings)]
    lines += [_lag(readings), _memory(readings), _pool(service, readings)]
    return [line for line in lines if line is not None]


def _traffic(service: Service, readings: Readings) -> Line | None:
    rate = readings.value(Signal.REQUEST_RATE)
    if rate is None:
        return None
    peak = service.slo.peak_rps
    if peak is None:
        return Line("Traffic", f"{rate:.1f} req/s")
    status: Status = "warn" if rate > peak else "ok"
    return Line(
        "Traffic", f"{rate:.1f} req/s ({rate / peak:.0%} of the {peak:g} req/s peak)", status
    )


def _errors(service: Service, readings: Readings) -> Line | None:
    ratio = readings.value(Signal.ERROR_RATIO)
    if ratio is None:
        return None
    target = service.slo.availability_percent
    if target is None:
        status: Status = "ok"
        if ratio > UNTARGETED_ERRORS_WARN:
            status = "crit" if ratio > UNTARGETED_ERRORS_CRIT else "warn"
        return Line("Errors", f"{percent(ratio)} of requests", status)
    budget = 1 - target / 100
    burn = ratio / budget if budget > 0 else 0.0
    status = "ok" if burn <= 1 else ("crit" if burn >= FAST_BURN else "warn")
    return Line(
        "Errors", f"{percent(ratio)} (SLO allows {percent(budget, 3)}, burn {burn:.1f}×)", status
    )


def _latency(service: Service, readings: Readings) -> Line | None:
    parts: list[str] = []
    statuses: list[Status] = []
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
            statuses.append(latency_status(value * 1000, target_ms))
    if not parts:
        return None
    return Line("Latency", " · ".join(parts), worst(statuses) if statuses else None)


def latency_status(value_ms: float, target_ms: float) -> Status:
    if value_ms <= target_ms:
        return "ok"
    return "crit" if value_ms > target_ms * LATENCY_CRIT_FACTOR else "warn"


def _lag(readings: Readings) -> Line | None:
    lag = readings.value(Signal.EVENTLOOP_LAG_P99)
    if lag is None:
        return None
    status: Status = "ok" if lag < LAG_WARN_S else ("warn" if lag < LAG_CRIT_S else "crit")
    return Line("Event-loop lag", f"p99 {ms(lag)}", status)


def _memory(readings: Readings) -> Line | None:
    heap, rss = readings.value(Signal.HEAP_USED), readings.value(Signal.RSS)
    parts = [f"heap {mib(heap)}"] if heap is not None else []
    parts += [f"RSS {mib(rss)}"] if rss is not None else []
    return Line("Memory", " · ".join(parts)) if parts else None


def _pool(service: Service, readings: Readings) -> Line | None:
    used = readings.value(Signal.DB_POOL_USED)
    if used is None:
        return None
    size = readings.value(Signal.DB_POOL_MAX) or service.slo.pool_size
    pending = readings.value(Signal.DB_POOL_PENDING) or 0.0
    text = f"{used:.0f}" + (f" of {size:.0f}" if size else "") + " connections in use"
    if pending:
        text += f", {pending:.0f} waiting"
    busy = bool(size) and used >= POOL_BUSY * float(size or 0)
    status: Status = "crit" if busy and pending else ("warn" if busy or pending else "ok")
    return Line("DB pool", text, status)


def _note(status: Status) -> str:
    words = {"ok": "healthy", "warn": "needs a look", "crit": "unhealthy", "unknown": "no data"}
    return f"/health: {words[status]}"
