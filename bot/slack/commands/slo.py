"""`/slo SERVICE [WINDOW]`: availability and latency against the catalog's SLO over a window,
the error budget left and how fast it burns."""

from __future__ import annotations

import asyncio

from bot.catalog import Service
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.common import (
    Invalid,
    Invocation,
    authorized,
    checked_window,
    known_service,
    tell,
    window_seconds,
)
from bot.slack.deps import Deps
from bot.slack.render.health import signal_message
from bot.slack.render.slo_lines import LATENCY, footer, slo_lines
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable
from bot.sources.readings import read_signals
from bot.sources.signals import Signal

DEFAULT_WINDOW = "30d"
RECENT_SECONDS = 3600

USAGE = "\n".join(
    [
        "*`/slo SERVICE [WINDOW]`* holds a service to the SLO in the service catalog:",
        "availability and latency over the window, the error budget left, and the burn rate",
        "over the window and the last hour. Only you see the answer.",
        "",
        f"• `WINDOW`: from `1m` to `30d` (default `{DEFAULT_WINDOW}`)",
        "",
        "Examples: `/slo checkout`, `/slo checkout 7d`, `/slo help`",
    ]
)


def accept(deps: Deps, call: Invocation) -> Accepted:
    service, window = parse(deps, call)
    return Accepted(
        f":bar_chart: Checking {code(service.name)} against its SLO over {escape(window)}…",
        f"The SLO of {service.name}",
        lambda: report_slo(deps, call, service, window),
    )


def parse(deps: Deps, call: Invocation) -> tuple[Service, str]:
    if len(call.words) > 2:
        raise Invalid(f"`/slo` takes a service and a window at most.\n\n{USAGE}")
    service = known_service(deps, call.words[0], USAGE)
    window = checked_window(call.words[1], USAGE) if len(call.words) > 1 else DEFAULT_WINDOW
    return service, window


async def report_slo(deps: Deps, call: Invocation, service: Service, window: str) -> None:
    if not await authorized(deps, call, "slo", service.owners):
        return
    if deps.prometheus is None:
        await tell(call.respond, "`/slo` needs Prometheus: set PROMETHEUS_URL for the bot.")
        return
    signals = [Signal.ERROR_RATIO, *(signal for _, signal in LATENCY)]
    try:
        whole, recent = await asyncio.gather(
            read_signals(deps.prometheus, service, signals, seconds=window_seconds(window)),
            read_signals(deps.prometheus, service, [Signal.ERROR_RATIO], seconds=RECENT_SECONDS),
        )
    except MetricsUnavailable as error:
        await tell(call.respond, f":x: Prometheus could not be asked: {escape(str(error))}")
        return
    lines = slo_lines(service, window, whole, recent, deps.grading)
    text, blocks = signal_message(f"{service.name} SLO over {window}", lines, footer(service))
    await tell(call.respond, text, blocks)


COMMAND = SlashCommand("/slo", USAGE, accept)
