"""Diagnosis scorecard: every lab fault, both flavours, diagnosed by `python -m bot triage`.

Scenarios run in batches of three services: one CPU-heavy fault with two light ones, so the
faults that need a core never fight each other on a two-core machine; the database faults
(which also load PostgreSQL) come in batches of their own. Every batch gets a fresh lab
(PostgreSQL cluster, Prometheus, Alertmanager, load); the catalog the bot reads names
services `svc-NN`, so only metrics and database evidence tell it what is wrong.

    .venv/bin/pytest -m lab tests/lab/test_scorecard.py

The table is printed at the end of the run and written to `.run/scorecard.md`.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import Flavour, LabStack
from lab.packages import missing_packages
from tests.lab.scorecard import (
    LAST_TABLE,
    REPO_ROOT,
    Scenario,
    ScenarioOutcome,
    neutral_scenarios,
    render_table,
    score_batch,
    write_catalog,
)

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]

CPU_HEAVY = ("event_loop_blocked", "cpu_saturated", "gc_pressure", "unbounded_concurrency")
LIGHT = (
    "healthy",
    "heap_leak",
    "native_memory_growth",
    "db_pool_saturated",
    "slow_queries",
    "slow_downstream",
    "downstream_errors",
    "error_spike",
)
DATABASE = ("missing_index", "n_plus_one_queries", "lock_contention", "connection_leak")
FLAVOURS: tuple[Flavour, ...] = ("promclient", "otel")
# Where the loudest signal is not what users feel, two faults at once, and services that name
# their metrics differently (a registry prefix with express-prom-bundle's labels; the older
# OpenTelemetry HTTP histograms in milliseconds). One CPU-heavy scenario per batch.
REALISTIC: tuple[tuple[tuple[Flavour, str], ...], ...] = (
    (
        ("promclient", "near_capacity"),
        ("otel", "background_dependency_failing"),
        ("otel", "slow_downstream+heap_leak"),
    ),
    (
        ("otel", "near_capacity"),
        ("promclient", "background_dependency_failing"),
        ("promclient", "slow_downstream+heap_leak"),
    ),
    (
        ("promclient", "event_loop_blocked+db_pool_saturated"),
        ("otel", "gc_harmless"),
        ("otel", "slow_downstream@legacy_http"),
    ),
    (
        ("otel", "event_loop_blocked+db_pool_saturated"),
        ("promclient", "gc_harmless"),
        ("promclient", "slow_downstream@prefixed"),
    ),
    (("promclient", "event_loop_blocked@prefixed"), ("otel", "error_spike@prefixed")),
    (("otel", "event_loop_blocked@prefixed"), ("otel", "error_spike@legacy_http")),
)
DEADLINE_S = 90.0
REPORT = REPO_ROOT / ".run" / "scorecard.md"
MEDIAN_TARGET_S = 45.0


def batches() -> list[list[tuple[Flavour, str]]]:
    """Eight batches of one CPU-heavy scenario plus two light ones of the other flavour, then
    the database faults three at a time, no fault twice in a batch."""
    heavy = [(flavour, fault) for fault in CPU_HEAVY for flavour in FLAVOURS]
    light = [(flavour, fault) for fault in LIGHT for flavour in FLAVOURS]
    # Rotate so each batch mixes flavours and no batch holds two copies of one light fault.
    light = light[1::2] + light[0::2]
    mixed = [[heavy[i], light[2 * i], light[2 * i + 1]] for i in range(len(heavy))]
    database = [(flavour, fault) for fault in DATABASE for flavour in FLAVOURS]
    database = database[0::2] + database[1::2]
    chunks = [database[i : i + 3] for i in range(0, len(database), 3)]
    return mixed + chunks + [list(batch) for batch in REALISTIC]


BATCHES = batches()
_collected: list[ScenarioOutcome] = []
_suite_started = time.monotonic()


def _numbered(batch_index: int) -> list[Scenario]:
    return neutral_scenarios(BATCHES[batch_index], first=batch_index * 3 + 1)


@pytest.fixture(scope="module")
def scorecard() -> Iterator[list[ScenarioOutcome]]:
    yield _collected
    if not _collected:
        return
    table = render_table(_collected, suite_seconds=time.monotonic() - _suite_started)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("# Diagnosis scorecard\n\n" + table + "\n", encoding="utf-8")
    LAST_TABLE.append(f"{table}\n(written to {REPORT.relative_to(REPO_ROOT)})")


@pytest.mark.timeout(DEADLINE_S + 60)
@pytest.mark.parametrize(
    "batch_index",
    range(len(BATCHES)),
    ids=lambda i: "+".join(f"{flavour}/{fault}" for flavour, fault in BATCHES[i]),
)
async def test_batch_is_diagnosed(
    batch_index: int, scorecard: list[ScenarioOutcome], tmp_path: Path
) -> None:
    scenarios = _numbered(batch_index)
    pairs = [(s.flavour, s.fault) for s in scenarios]
    async with LabStack(pairs=pairs, load_duration_s=DEADLINE_S + 60) as lab:
        wanted = {(s.flavour, s.fault) for s in scenarios}
        catalog = write_catalog(tmp_path / "services.yaml", scenarios, lab)
        outcomes = await score_batch(scenarios, lab, catalog, deadline_s=DEADLINE_S)
    assert {(o.scenario.flavour, o.scenario.fault) for o in outcomes} == wanted
    scorecard.extend(outcomes)
    missed = [
        f"{o.scenario.flavour}/{o.scenario.fault}: said {o.last.cause if o.last else None}"
        f" ({o.last.summary if o.last else 'no answer'})"
        for o in outcomes
        if not o.correct
    ]
    assert not missed, "\n".join(missed)
    wrong_culprits = [
        f"{o.scenario.flavour}/{o.scenario.fault}: profile named {o.culprit or 'nothing'}"
        f" ({o.culprit_problem}), expected {o.scenario.expected_culprit}"
        for o in outcomes
        if o.culprit_correct is False
    ]
    assert not wrong_culprits, "\n".join(wrong_culprits)


def test_median_time_to_a_correct_diagnosis(scorecard: list[ScenarioOutcome]) -> None:
    times = [o.seconds_to_correct for o in scorecard if o.correct and o.seconds_to_correct]
    if len(scorecard) < 2 * len(FLAVOURS):
        pytest.skip("the batches did not run")
    assert statistics.median(times) < MEDIAN_TARGET_S
