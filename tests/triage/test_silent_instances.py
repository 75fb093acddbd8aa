"""An instance whose scrapes fail reports nothing, so the checks see only the others: the triage
names it and never calls the rest healthy."""

from __future__ import annotations

from typing import Any

from bot.sources.base import RangeSeries
from bot.triage.checks.scrape_targets import silent_since
from bot.triage.window import parse_window
from tests.triage.helpers import recording, triage_data

STUCK_POD = "shop-6d8f9-b2"
SILENT_FROM = -45  # seconds before the window's end (the recordings' clock)


def pods(data: dict[str, Any]) -> list[dict[str, str]]:
    return [one["labels"] for one in data["signals"]["eventloop_lag_p99"]]


def with_targets(data: dict[str, Any], silent: dict[str, int]) -> dict[str, Any]:
    """`up` for every pod of the recording, 0 from `silent[pod]` on; a silent pod's own series
    end there, as Prometheus marks them stale once its scrapes fail."""
    times = [t for t, _ in data["signals"]["eventloop_lag_p99"][0]["points"]]
    data["signals"]["target_up"] = [
        {
            "labels": labels,
            "points": [[t, 0 if t >= silent.get(labels["pod"], 1) else 1] for t in times],
        }
        for labels in pods(data)
    ]
    for key, found in data["signals"].items():
        for one in found:
            since = silent.get(one["labels"].get("pod", ""))
            if since is not None and key != "target_up":
                one["points"] = [p for p in one["points"] if p[0] < since]
    return data


def names_of(data: dict[str, Any]) -> list[str]:
    return [labels["pod"] for labels in pods(data)]


async def test_a_pod_that_stops_answering_is_named_and_the_rest_is_not_called_healthy() -> None:
    data = with_targets(recording("healthy_on_kubernetes"), {STUCK_POD: SILENT_FROM})
    assert STUCK_POD in names_of(data)
    report = await triage_data(data)

    diagnosis = report.diagnosis
    assert diagnosis.cause == "insufficient_data"
    assert f"Not measured: anything from {STUCK_POD}" in diagnosis.summary
    assert "take it out of rotation" in diagnosis.advice
    silent = next(f for s in report.steps for f in s.findings if f.code == "instances_silent")
    assert silent.severity == "warn"
    assert f"{STUCK_POD} (1 of 3) stopped answering" in silent.summary
    assert silent.scope is not None
    assert (silent.scope.instances_total, silent.scope.instances_affected) == (3, (STUCK_POD,))


async def test_every_pod_answering_leaves_the_diagnosis_as_it_was() -> None:
    data = with_targets(recording("healthy_on_kubernetes"), {})
    report = await triage_data(data)

    assert report.diagnosis.cause == "healthy"
    silent = next(f for s in report.steps for f in s.findings if f.code == "instances_silent")
    assert (silent.severity, silent.summary) == ("info", "all 3 scrape target(s) answer Prometheus")


async def test_a_silent_pod_beside_a_named_cause_costs_confidence_and_is_said() -> None:
    base = await triage_data(recording("cpu_starved"))
    assert base.diagnosis.scope is not None
    data = recording("cpu_starved")
    quiet = next(p for p in names_of(data) if p not in base.diagnosis.scope.instances_affected)
    report = await triage_data(with_targets(data, {quiet: SILENT_FROM}))

    assert report.diagnosis.cause == base.diagnosis.cause == "cpu_starved"
    assert f"Not measured: anything from {quiet}" in report.diagnosis.summary
    assert report.diagnosis.confidence < base.diagnosis.confidence


WINDOW = parse_window("10m", end=600.0)  # step 15 s


def target(values: list[float], last_at: float = 600.0) -> RangeSeries:
    start = last_at - 15 * (len(values) - 1)
    return RangeSeries({}, [(start + 15 * i, v) for i, v in enumerate(values)])


def test_a_target_is_silent_once_its_scrapes_fail_for_long_enough() -> None:
    assert silent_since(target([1, 1, 0, 0, 0]), WINDOW, 20) == 570.0
    assert silent_since(target([1, 1, 1, 1, 0]), WINDOW, 20) is None  # one failed scrape
    assert silent_since(target([0, 0, 0, 0, 1]), WINDOW, 20) is None  # answering again
    assert silent_since(target([1, 0, 0, 0], last_at=480.0), WINDOW, 20) is None  # removed
