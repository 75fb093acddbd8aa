"""The triage, `/health`, `/slo` and the weekly digest call the same reading the same thing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.catalog import Service, Slo
from bot.digest.figures import EventLoop, Latency, LatencyQuantile, ServiceFigures
from bot.digest.lines import flags
from bot.grading import Grade, Grading
from bot.slack.render.health import Line
from bot.slack.render.health_lines import health_lines
from bot.slack.render.slo_lines import slo_lines
from bot.sources.readings import Readings
from bot.sources.signals import Signal
from bot.triage.checks.base import Targets
from bot.triage.engine import TriageRequest, run_triage
from bot.triage.recorded import RecordedSignalSource
from bot.triage.window import parse_window
from tests.digest.test_render import empty_service
from tests.triage.helpers import END, nodejs_playbook

P99_TARGET_MS = 500.0
AVAILABILITY = 99.9
SERVICE = Service(
    name="checkout",
    selector={"job": "checkout"},
    slo=Slo(p99_ms=P99_TARGET_MS, availability_percent=AVAILABILITY),
)
TARGETS = Targets(p99_ms=P99_TARGET_MS, availability_percent=AVAILABILITY)

# Readings on each side of every threshold; 0.8 s is 1.6 times the objective, which the old
# `/health` called critical while the playbook calls it a warning.
P99_READINGS = {0.4: "ok", 0.8: "warn", 0.99: "warn", 1.0: "crit", 1.5: "crit"}
LAG_READINGS = {0.02: "ok", 0.1: "warn", 0.3: "warn", 0.5: "crit", 0.9: "crit"}
ERROR_READINGS = {0.0005: "ok", 0.009: "ok", 0.01: "warn", 0.03: "warn", 0.05: "crit"}


def test_the_shipped_playbook_holds_the_default_thresholds() -> None:
    assert Grading.from_playbook(nodejs_playbook()) == Grading()


def test_a_playbook_with_other_thresholds_moves_the_grades() -> None:
    playbook = nodejs_playbook()
    apm = playbook.steps[0]
    latency = apm.checks[0]
    assert latency.kind.kind == "slo_latency"
    stricter = replace(latency, params=latency.params.model_copy(update={"crit_factor": 1.5}))
    steps = (replace(apm, checks=(stricter, *apm.checks[1:])), *playbook.steps[1:])
    grading = Grading.from_playbook(replace(playbook, steps=steps))
    assert grading.latency_crit_factor == 1.5
    assert grading.latency(0.8, P99_TARGET_MS / 1000) == "crit"


async def triage_grades(signal: Signal, value: float, code: str) -> Grade:
    """The severity the shipped playbook's triage gives `code` for a flat `value`."""
    flat = [[-600 + 15 * i, value] for i in range(41)]
    signals = {signal.value: [{"labels": {}, "points": flat}]}
    signals[Signal.REQUEST_RATE.value] = [{"labels": {}, "points": [[-600, 10.0], [0, 10.0]]}]
    request = TriageRequest(
        service="checkout",
        window=parse_window("10m", end=END),
        playbook=nodejs_playbook(),
        source=RecordedSignalSource.from_dict({"signals": signals}),
        targets=TARGETS,
    )
    report = await run_triage(request)
    (severity,) = [f.severity for s in report.steps for f in s.findings if f.code == code]
    return "ok" if severity == "info" else severity


def line_status(lines: list[Line], label: str) -> Grade:
    (status,) = [line.status for line in lines if line.label == label]
    assert status in ("ok", "warn", "crit")
    return status


def digest_grade(figures: ServiceFigures) -> Grade:
    levels = [level for level, _ in flags(figures)]
    assert len(levels) <= 1
    return levels[0] if levels else "ok"  # type: ignore[return-value]


@pytest.mark.parametrize(("p99", "expected"), P99_READINGS.items())
async def test_latency_is_graded_alike_everywhere(p99: float, expected: Grade) -> None:
    readings = Readings({Signal.LATENCY_P99: p99})
    quantile = LatencyQuantile("p99", p99, None, P99_TARGET_MS / 1000)
    figures = replace(empty_service("checkout"), latency=Latency((quantile,)))
    graded = {
        "triage": await triage_grades(Signal.LATENCY_P99, p99, "service_latency"),
        "/health": line_status(health_lines(SERVICE, readings, Grading()), "Latency"),
        "/slo": line_status(slo_lines(SERVICE, "1h", readings, readings, Grading()), "Latency"),
        "digest": digest_grade(figures),
    }
    assert graded == dict.fromkeys(graded, expected)


@pytest.mark.parametrize(("lag", "expected"), LAG_READINGS.items())
async def test_event_loop_lag_is_graded_alike_everywhere(lag: float, expected: Grade) -> None:
    readings = Readings({Signal.EVENTLOOP_LAG_P99: lag})
    loop = EventLoop(p99_typical_s=lag, p99_worst_s=lag, max_worst_s=None, hours_over_bad=0)
    figures = replace(empty_service("checkout"), event_loop=loop)
    graded = {
        "triage": await triage_grades(Signal.EVENTLOOP_LAG_P99, lag, "eventloop_lag"),
        "/health": line_status(health_lines(SERVICE, readings, Grading()), "Event-loop lag"),
        "digest": digest_grade(figures),
    }
    assert graded == dict.fromkeys(graded, expected)


@pytest.mark.parametrize(("ratio", "expected"), ERROR_READINGS.items())
async def test_errors_are_graded_alike_by_the_triage_and_health(
    ratio: float, expected: Grade
) -> None:
    readings = Readings({Signal.ERROR_RATIO: ratio})
    graded = {
        "triage": await triage_grades(Signal.ERROR_RATIO, ratio, "service_errors"),
        "/health": line_status(health_lines(SERVICE, readings, Grading()), "Errors"),
    }
    assert graded == dict.fromkeys(graded, expected)
