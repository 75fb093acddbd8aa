"""Which scorecard scenarios share a lab, and why.

Every batch gets a fresh lab of at most three services:
- at most one CPU-heavy scenario, so faults that need a core never fight each other on a
  two-core machine (two of them in one lab were diagnosed wrong there);
- the database faults (which also load PostgreSQL) in labs of their own;
- no fault twice, flavours mixed;
- the scenarios that must be called healthy and stay so for the steady watch together, so
  only a few labs wait out that watch (the other labs end once every fault is named).
"""

from __future__ import annotations

from lab import Flavour
from tests.lab.scorecard import Scenario

Pair = tuple[Flavour, str]

FLAVOURS: tuple[Flavour, ...] = ("promclient", "otel")
CPU_HEAVY = ("event_loop_blocked", "cpu_saturated", "gc_pressure", "unbounded_concurrency")
# Honest load near capacity keeps a core busy, so it counts as CPU-heavy when batching.
BUSY_WHILE_HEALTHY = "near_capacity"
LIGHT = (
    "heap_leak",
    "native_memory_growth",
    "db_pool_saturated",
    "slow_queries",
    "slow_downstream",
    "downstream_errors",
    "error_spike",
)
DATABASE = ("missing_index", "n_plus_one_queries", "lock_contention", "connection_leak")
# Every scenario that must be called healthy, three labs in all (near capacity once per lab);
# the third keeps a CPU-heavy fault beside a healthy service, as a noisy neighbour.
STEADY: tuple[tuple[Pair, ...], ...] = (
    (
        ("promclient", "near_capacity"),
        ("otel", "background_dependency_failing"),
        ("otel", "gc_harmless"),
    ),
    (
        ("otel", "near_capacity"),
        ("promclient", "background_dependency_failing"),
        ("promclient", "healthy"),
    ),
    (
        ("promclient", "event_loop_blocked"),
        ("otel", "healthy"),
        ("promclient", "gc_harmless"),
    ),
)
# Two faults at once, and services that name their metrics differently (a registry prefix
# with express-prom-bundle's labels; the older OpenTelemetry HTTP histograms in milliseconds).
REALISTIC: tuple[tuple[Pair, ...], ...] = (
    (
        ("promclient", "event_loop_blocked+db_pool_saturated"),
        ("otel", "slow_downstream+heap_leak"),
        ("otel", "error_spike@prefixed"),
    ),
    (
        ("otel", "event_loop_blocked+db_pool_saturated"),
        ("promclient", "slow_downstream+heap_leak"),
        ("otel", "error_spike@legacy_http"),
    ),
    (("promclient", "event_loop_blocked@prefixed"), ("otel", "slow_downstream@legacy_http")),
    (("otel", "event_loop_blocked@prefixed"), ("promclient", "slow_downstream@prefixed")),
)


def cpu_heavy(fault: str) -> bool:
    parts = Scenario("otel", fault, "").faults
    return any(part in CPU_HEAVY or part == BUSY_WHILE_HEALTHY for part in parts)


def batches() -> list[list[Pair]]:
    """The steady labs; each remaining CPU-heavy fault with two light ones; the database
    faults three at a time; the realistic labs."""
    in_steady = {pair for batch in STEADY for pair in batch}
    heavy = [(f, fault) for fault in CPU_HEAVY for f in FLAVOURS if (f, fault) not in in_steady]
    light = [(flavour, fault) for fault in LIGHT for flavour in FLAVOURS]
    # Rotate so no batch holds two copies of one light fault.
    light = light[1::2] + light[0::2]
    mixed = [[heavy[i], light[2 * i], light[2 * i + 1]] for i in range(len(heavy))]
    database = [(flavour, fault) for fault in DATABASE for flavour in FLAVOURS]
    database = database[0::2] + database[1::2]
    chunks = [database[i : i + 3] for i in range(0, len(database), 3)]
    steady = [list(batch) for batch in STEADY]
    return steady + mixed + chunks + [list(batch) for batch in REALISTIC]
