"""Diagnosis scorecard: every lab fault, both flavours, diagnosed by `python -m bot triage`.

Scenarios run in batches of up to three services (see `tests/lab/scorecard_batches.py`: at
most one CPU-heavy fault per batch, the database faults apart, the must-stay-healthy ones
together). Every batch gets a fresh lab (PostgreSQL cluster, Prometheus, Alertmanager, load);
the catalog the bot reads names services `svc-NN`, so only metrics and database evidence tell
it what is wrong.

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

from lab import LabStack
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
from tests.lab.scorecard_batches import FLAVOURS, batches

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]

DEADLINE_S = 90.0
REPORT = REPO_ROOT / ".run" / "scorecard.md"
MEDIAN_TARGET_S = 45.0
BATCHES = batches()
_collected: list[ScenarioOutcome] = []
_lab_upkeep_s: list[float] = []  # per batch: starting and stopping its lab


def _numbered(batch_index: int) -> list[Scenario]:
    return neutral_scenarios(BATCHES[batch_index], first=batch_index * 3 + 1)


@pytest.fixture(scope="module")
def scorecard() -> Iterator[list[ScenarioOutcome]]:
    started = time.monotonic()  # with the first batch, not at collection (other tests first)
    yield _collected
    if not _collected:
        return
    table = render_table(_collected, suite_seconds=time.monotonic() - started)
    upkeep = f"{len(_lab_upkeep_s)} labs, starting and stopping them: {sum(_lab_upkeep_s):.0f} s"
    table += f"\n\n{upkeep}"
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
    began = time.monotonic()
    async with LabStack(pairs=pairs, load_duration_s=DEADLINE_S + 60) as lab:
        up = time.monotonic()
        wanted = {(s.flavour, s.fault) for s in scenarios}
        catalog = write_catalog(tmp_path / "services.yaml", scenarios, lab)
        outcomes = await score_batch(scenarios, lab, catalog, deadline_s=DEADLINE_S)
        scored = time.monotonic()
    _lab_upkeep_s.append(up - began + time.monotonic() - scored)
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
