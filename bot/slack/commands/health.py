"""`/health SERVICE`: the golden signals right now, each held against the service's SLO."""

from __future__ import annotations

from bot.catalog import Service
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
from bot.slack.render.health import overall, signal_message
from bot.slack.render.health_lines import health_lines
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable
from bot.sources.readings import read_signals
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


def _note(status: Status) -> str:
    words = {"ok": "healthy", "warn": "needs a look", "crit": "unhealthy", "unknown": "no data"}
    return f"/health: {words[status]}"


COMMAND = SlashCommand("/health", USAGE, accept)
