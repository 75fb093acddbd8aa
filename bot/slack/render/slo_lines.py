"""`/slo`'s lines: availability, error budget, burn rate and latency over a window, graded by
`bot.grading` and worded for Slack."""

from __future__ import annotations

from bot.catalog import Service
from bot.grading import Grade, Grading, budget_left, burn, error_budget, worst
from bot.models import Status
from bot.slack.render.health import Line, ms, percent
from bot.sources.readings import Readings
from bot.sources.signals import Signal

LATENCY = (
    ("p50", Signal.LATENCY_P50),
    ("p95", Signal.LATENCY_P95),
    ("p99", Signal.LATENCY_P99),
)


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


def footer(service: Service) -> str:
    if service.slo.availability_percent is None and service.slo.p99_ms is None:
        return f"{service.name} has no SLO in the catalog: set slo.availability_percent and p99_ms."
    return "Burn rate 1× spends the whole budget exactly over the SLO window."
