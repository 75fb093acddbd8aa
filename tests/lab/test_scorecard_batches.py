"""The scorecard's batches: every scenario once, and labs a two-core machine can judge."""

from __future__ import annotations

import math
from collections import Counter

from lab import FAULTS
from tests.lab.scorecard import Scenario
from tests.lab.scorecard_batches import DATABASE, FLAVOURS, Pair, batches, cpu_heavy

BATCH_SIZE = 3


def _scenarios(batch: list[Pair]) -> list[Scenario]:
    return [Scenario(flavour, fault, "") for flavour, fault in batch]


def test_every_fault_runs_in_both_flavours_and_no_scenario_twice() -> None:
    pairs = [pair for batch in batches() for pair in batch]
    assert len(pairs) == len(set(pairs))
    assert {(flavour, fault) for flavour in FLAVOURS for fault in FAULTS} <= set(pairs)


def test_a_lab_holds_at_most_three_services_and_one_cpu_heavy_fault() -> None:
    for batch in batches():
        assert len(batch) <= BATCH_SIZE, batch
        assert sum(cpu_heavy(fault) for _, fault in batch) <= 1, batch


def test_no_fault_twice_in_a_lab_and_database_faults_apart() -> None:
    for batch in batches():
        parts = Counter(part for s in _scenarios(batch) for part in s.faults)
        assert max(parts.values()) == 1, batch
        database = [part in DATABASE for part in parts]
        assert all(database) or not any(database), batch


def test_the_must_stay_healthy_scenarios_wait_out_the_watch_in_as_few_labs_as_possible() -> None:
    steady_labs = [b for b in batches() if any(s.steady for s in _scenarios(b))]
    steady = [s for b in steady_labs for s in _scenarios(b) if s.steady]
    heavy = [s for s in steady if cpu_heavy(s.fault)]
    assert len(steady_labs) == max(math.ceil(len(steady) / BATCH_SIZE), len(heavy))
    assert cpu_heavy("near_capacity")
    assert cpu_heavy("event_loop_blocked+db_pool_saturated")
    assert not cpu_heavy("slow_downstream+heap_leak")
