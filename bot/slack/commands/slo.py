"""`/slo SERVICE [WINDOW]`: availability and latency against the catalog's SLO over a window,
the error budget left and how fast it burns."""

from __future__ import annotations

import asyncio

from bot.catalog import Service
from bot.grading import Grade, Grading, budget_left, burn, error_budget, worst
from bot.models import Status
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
from bot.slack.render.health import Line, ms, percent, signal_message
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable
from bot.sources.readings import Readings, read_signals
from bot.sources.signals import Signal

DEFAULT_WINDOW = "30d"
RECENT_SECONDS = 3600
LATENCY = (
    ("p50", Signal.LATENCY_P50),
    ("p95", Signal.LATENCY_P95),
    ("p99", Signal.LATENCY_P99),
)

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
    text, blocks = signal_message(f"{service.name} SLO over {window}", lines, _footer(service))
    await tell(call.respond, text, blocks)


def slo_lines(
    service: Service,
    window: str,
    whole: Readings,
    recent: Readings,
    grading: Grading | None = None,
) -> list[Line]:
    """Availability, budget, burn and latency over the window, graded by `bot.grading`."""
    if whole.empty:
        return [Line("No data", f"Prometheus holds nothing for {service.name} over {window}.")]
    lines = _availability(service, window, whole, recent)
    lines.append(_latency(service, whole, grading or Grading()))
    return lines


def _availability(service: Service, window: str, whole: Readings, recent: Readings) -> list[Line]:
    ratio = whole.value(Signal.ERROR_RATIO)
    if ratio is None:
        return [Line("Availability", "no error-ratio signal for this service", "unknown")]
    target = service.slo.availability_percent
    measured = f"{percent(1 - ratio, 3)} over {window}"
    if target is None:
        return [Line("Availability", f"{measured} (no target in the catalog)")]
    budget = error_budget(target) or 0.0
    meets: Status = "ok" if 1 - ratio >= target / 100 else "crit"
    lines = [Line("Availability", f"{measured} · target {target:g}%", meets)]
    left = 1 - ratio / budget
    lines.append(Line("Error budget", f"{max(left, 0.0):.0%} left", budget_left(left)))
    lines.append(_burn(ratio / budget, window, recent.value(Signal.ERROR_RATIO), budget))
    return lines


def _burn(over_window: float, window: str, recent_ratio: float | None, budget: float) -> Line:
    if recent_ratio is None:
        return Line("Burn rate", f"{over_window:.1f}× over {window}", burn(over_window))
    recent = recent_ratio / budget
    text = f"{recent:.1f}× over the last hour · {over_window:.1f}× over {window}"
    return Line("Burn rate", text, burn(recent))


def _latency(service: Service, whole: Readings, grading: Grading) -> Line:
    targets = {"p50": service.slo.p50_ms, "p95": service.slo.p95_ms, "p99": service.slo.p99_ms}
    parts: list[str] = []
    grades: list[Grade] = []
    for name, signal in LATENCY:
        value, target = whole.value(signal), targets[name]
        if value is None:
            continue
        if target is None:
            parts.append(f"{name} {ms(value)}")
            continue
        grades.append(grading.latency(value, target / 1000))
        parts.append(f"{name} {ms(value)} / {target:g} ms")
    if not parts:
        return Line("Latency", "no latency signal for this service", "unknown")
    return Line("Latency", " · ".join(parts), worst(grades) if grades else None)


def _footer(service: Service) -> str:
    if service.slo.availability_percent is None and service.slo.p99_ms is None:
        return f"{service.name} has no SLO in the catalog: set slo.availability_percent and p99_ms."
    return "Burn rate 1× spends the whole budget exactly over the SLO window."


COMMAND = SlashCommand("/slo", USAGE, accept)
