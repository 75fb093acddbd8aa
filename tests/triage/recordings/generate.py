"""Write the synthetic recordings used by the diagnosis tests (run from the repository root).

    .venv/bin/python -m tests.triage.recordings.generate

Each scenario starts from a healthy Node.js service (numbers in the range the fault lab's
prom-client service shows at 30 req/s) and changes what that failure mode changes, including
the side effects that confound a naive reading (a blocked loop inflating database timings,
a flood of outbound calls lagging the loop). Seeds are fixed, so the files are reproducible.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
STEP = 15
TIMES = [-585 + STEP * i for i in range(40)]
MIB = 1_048_576
Shape = Callable[[float, random.Random], float]


def flat(level: float, noise: float = 0.05) -> Shape:
    return lambda _t, rng: level * (1 + rng.uniform(-noise, noise))


def ramp(start: float, end: float, noise: float = 0.03) -> Shape:
    return lambda t, rng: (
        (start + (end - start) * (t + 600) / 600) * (1 + rng.uniform(-noise, noise))
    )


def sawtooth(floor: Shape, amplitude: float) -> Shape:
    return lambda t, rng: floor(t, rng) + amplitude * (((t + 600) / 60) % 1.0)


def spiky(base: float, peak: float, every: int = 3) -> Shape:
    return lambda t, rng: peak * rng.uniform(0.8, 1.2) if int(t / STEP) % every == 0 else base


def step_up(at: float, low: float, high: float, noise: float = 0.03) -> Shape:
    return lambda t, rng: (high if t >= at else low) * (1 + rng.uniform(-noise, noise))


def series(shape: Shape, rng: random.Random, labels: dict[str, str] | None = None) -> list[Any]:
    points = [[t, round(shape(t, rng), 6)] for t in TIMES]
    return [{"labels": labels or {}, "points": points}]


def healthy() -> dict[str, Shape | dict[str, Shape]]:
    return {
        "request_rate": flat(30),
        "error_ratio": flat(0.002, 0.5),
        "latency_p50": flat(0.02),
        "latency_p95": flat(0.06),
        "latency_p99": flat(0.12),
        "eventloop_lag_p99": flat(0.012),
        "eventloop_lag_max": flat(0.03, 0.3),
        "cpu_cores": flat(0.25, 0.2),
        "heap_used": sawtooth(flat(40 * MIB, 0.01), 20 * MIB),
        "heap_total": flat(80 * MIB, 0.01),
        "rss": flat(120 * MIB, 0.01),
        "external_memory": flat(5 * MIB, 0.01),
        "gc_time_ratio": flat(0.015, 0.3),
        "active_handles": flat(20, 0.1),
        "db_pool_used": flat(2, 0.4),
        "db_pool_max": flat(10, 0),
        "db_pool_pending": flat(0, 0),
        "db_op_p99": flat(0.02),
        "downstream_p99": {"pricing:3100": flat(0.03)},
        "downstream_rate": {"pricing:3100": flat(10.5)},
        "downstream_error_ratio": {"pricing:3100": flat(0.001, 0.5)},
        "db_op_rate": flat(15),  # last, so adding it left the other series as they were
    }


SCENARIOS: dict[str, dict[str, Any]] = {
    "healthy": {"expect": "healthy", "changes": {}},
    "event_loop_blocked": {
        "expect": "event_loop_blocked",
        "changes": {
            "eventloop_lag_p99": flat(0.34),
            "eventloop_lag_max": spiky(0.4, 0.9),
            "cpu_cores": flat(0.55),
            "latency_p99": flat(0.9),
            "latency_p95": flat(0.5),
            # confounders: the held loop inflates every latency measured in the process
            "db_op_p99": flat(0.26),
            "downstream_p99": {"pricing:3100": flat(0.45)},
        },
    },
    "event_loop_blocked_busy_cpu": {
        "expect": "event_loop_blocked",
        "changes": {
            "eventloop_lag_p99": flat(0.3),
            "eventloop_lag_max": flat(0.42),
            "cpu_cores": flat(1.0, 0.03),
            "latency_p99": flat(1.1),
        },
    },
    "cpu_saturated": {
        "expect": "cpu_saturated",
        "changes": {
            "cpu_cores": flat(1.02, 0.04),
            "eventloop_lag_p99": flat(0.045),
            "eventloop_lag_max": flat(0.07),
            "latency_p99": flat(0.4),
            "db_op_p99": flat(0.12),
        },
    },
    "gc_pressure": {
        "expect": "gc_pressure",
        "changes": {
            "gc_time_ratio": flat(0.31),
            "eventloop_lag_p99": flat(0.16),
            "eventloop_lag_max": flat(0.26),
            "cpu_cores": flat(0.95, 0.04),
            "heap_used": sawtooth(flat(90 * MIB, 0.02), 120 * MIB),
            "latency_p99": flat(0.7),
        },
    },
    "heap_leak": {
        "expect": "heap_leak",
        "changes": {
            "heap_used": sawtooth(ramp(60 * MIB, 260 * MIB, 0.01), 15 * MIB),
            "heap_total": ramp(90 * MIB, 300 * MIB, 0.01),
            "rss": ramp(150 * MIB, 380 * MIB, 0.01),
            # confounder: the growing live set makes collections longer
            "gc_time_ratio": ramp(0.03, 0.16, 0.05),
            "eventloop_lag_p99": flat(0.03),
        },
    },
    "native_memory_growth": {
        "expect": "native_memory_growth",
        "changes": {
            "rss": ramp(150 * MIB, 620 * MIB, 0.01),
            "external_memory": ramp(10 * MIB, 470 * MIB, 0.01),
        },
    },
    "db_pool_saturated": {
        "expect": "db_pool_saturated",
        "changes": {
            "db_pool_used": flat(10, 0),
            "db_pool_pending": flat(18, 0.3),
            "db_op_p99": flat(0.015),
            "latency_p99": flat(2.8),
            "latency_p95": flat(2.2),
            "error_ratio": flat(0.03, 0.2),
        },
    },
    "db_pool_saturated_slow_held_ops": {
        "expect": "db_pool_saturated",
        "changes": {
            # a transaction holds each connection 0.5 s: the held operation is slow, but
            # far more callers wait than the pool has connections
            "db_pool_used": flat(2, 0),
            "db_pool_max": flat(2, 0),
            "db_pool_pending": flat(14, 0.3),
            "db_op_p99": flat(0.5),
            "latency_p99": flat(3.0),
        },
    },
    "slow_queries": {
        "expect": "slow_queries",
        "changes": {
            "db_op_p99": flat(0.78),
            "db_pool_used": flat(6, 0.3),
            "db_pool_pending": spiky(0, 1, every=10),
            "latency_p99": flat(0.85),
        },
    },
    "slow_downstream": {
        "expect": "slow_downstream",
        "changes": {
            "downstream_p99": {"pricing:3100": flat(1.95)},
            "latency_p99": flat(2.0),
            "latency_p95": flat(1.8),
        },
    },
    "downstream_errors": {
        "expect": "downstream_errors",
        "changes": {
            "downstream_error_ratio": {"pricing:3100": flat(0.7)},
            "error_ratio": flat(0.25),
        },
    },
    "unbounded_concurrency": {
        "expect": "unbounded_concurrency",
        "changes": {
            "downstream_rate": {"pricing:3100": flat(2100)},
            "downstream_p99": {"pricing:3100": flat(0.8)},
            "active_handles": ramp(20, 900),
            # confounders: processing the responses lags the loop, buffers grow the heap
            "eventloop_lag_p99": flat(0.13),
            "latency_p99": flat(1.6),
        },
    },
    "error_spike": {
        "expect": "error_spike",
        "changes": {"error_ratio": flat(0.34)},
    },
    "slow_endpoint": {
        "expect": "slow_endpoint",
        "changes": {"latency_p99": flat(1.4)},
        "apm": {
            "endpoints": [
                {"name": "GET /api/report", "p95": 2.1, "p99": 2.6, "rate": 1.5, "error_rate": 0},
                {
                    "name": "GET /api/orders",
                    "p95": 0.03,
                    "p99": 0.05,
                    "rate": 13.5,
                    "error_rate": 0,
                },
                {"name": "GET /api/quote", "p95": 0.04, "p99": 0.06, "rate": 10.5, "error_rate": 0},
            ],
            "downstreams": [{"name": "pricing:3100", "p99": 0.03, "rate": 10.5, "error_rate": 0}],
        },
    },
}


ORDERS_BY_EMAIL = (
    "SELECT id, total, created_at FROM orders WHERE customer_email = $1 ORDER BY created_at DESC"
)
RECENT_ORDERS = "SELECT id, customer_id, total FROM orders ORDER BY id DESC LIMIT $1"
RESERVE = "UPDATE inventory SET reserved = reserved + ? WHERE sku = $1"


def statement(queryid: str, text: str, calls: float, total_ms: float, rows: float) -> Any:
    return {"queryid": queryid, "text": text, "calls": calls, "total_ms": total_ms, "rows": rows}


def idle(pid: int, seconds: float) -> Any:
    return {
        "pid": pid,
        "application": "checkout",
        "idle_s": seconds,
        "transaction_s": seconds,
        "statement": "SELECT id, total FROM orders WHERE id = $1",
    }


# The database evidence of each scenario that has one, as `DatabaseEvidence` reads it; the
# figures are those the fault lab's services showed (0.5 s samples of pg_stat_statements).
LEAKING_POOL = {
    "db_pool_used": flat(10, 0),
    "db_pool_pending": flat(25, 0.2),
    "db_op_rate": flat(0.05, 0.5),
    "db_op_p99": flat(0.004),
    "error_ratio": flat(0.3),
    "latency_p99": flat(3.0),
    "latency_p95": flat(2.9),
}
SCENARIOS |= {
    "missing_index": {
        "expect": "missing_index",
        "changes": {"db_op_p99": flat(0.09), "latency_p99": flat(0.3)},
        "database": {
            "span_s": 0.5,
            "statements": [
                statement("101", ORDERS_BY_EMAIL, 4, 110.0, 100),
                statement("102", RECENT_ORDERS, 6, 0.3, 120),
            ],
            "total_ms": 110.3,
            "scans": [
                {
                    "queryid": "101",
                    "schema_name": "public",
                    "table": "orders",
                    "columns": ["customer_email"],
                    "rows": 500000,
                    "size_bytes": 61849600,
                    "create_index": "CREATE INDEX CONCURRENTLY ON public.orders (customer_email);",
                }
            ],
            "sessions": {"idle": 3},
        },
    },
    "n_plus_one_queries": {
        "expect": "n_plus_one_queries",
        "changes": {"db_op_rate": flat(690), "latency_p99": flat(0.2)},
        "database": {
            "span_s": 0.5,
            "statements": [
                statement("103", "SELECT name, email FROM customers WHERE id = $1", 345, 8.1, 345),
                statement("104", RECENT_ORDERS, 7, 0.4, 350),
            ],
            "total_ms": 8.5,
            "sessions": {"idle": 2, "active": 1},
        },
    },
    "lock_contention": {
        "expect": "lock_contention",
        "changes": {
            # confounders: the waiting sessions fill the pool and their statements are slow
            "db_pool_used": flat(10, 0),
            "db_pool_pending": flat(12, 0.3),
            "db_op_p99": flat(2.2),
            "db_op_rate": flat(5),
            "latency_p99": flat(2.6),
            "latency_p95": flat(2.2),
        },
        "database": {
            "span_s": 0.5,
            "statements": [statement("105", RESERVE, 4, 8200.0, 4)],
            "total_ms": 8200.0,
            "lock_waits": [
                {
                    "waiting": 8,
                    "longest_wait_s": 2.1,
                    "waiting_statement": RESERVE,
                    "blocker_pid": 4242,
                    "blocker_application": "checkout",
                    "blocker_state": "idle in transaction",
                    "blocker_held_s": 2.3,
                    "blocker_statement": "UPDATE inventory SET reserved = ? WHERE sku = $1",
                }
            ],
            "idle_in_transaction": [idle(4242, 2.3)],
            "sessions": {"active": 9, "idle in transaction": 1},
        },
    },
    "connection_leak": {
        "expect": "connection_leak",
        # confounders: the full pool makes requests wait and time out (5xx)
        "changes": LEAKING_POOL,
        "database": {
            "span_s": 0.5,
            "idle_in_transaction": [idle(5000 + i, 58.0 - 5 * i) for i in range(10)],
            "sessions": {"idle in transaction": 10},
        },
    },
    "connection_leak_pool_metrics": {
        "expect": "connection_leak",
        "note": "no database in the catalog: the pool's metrics alone show the leak",
        "changes": LEAKING_POOL,
    },
    "slow_queries_with_database": {
        "expect": "slow_queries",
        "note": "the evidence shows a slow statement but no scan, lock or leak",
        "changes": {
            "db_op_p99": flat(0.78),
            "db_pool_used": flat(6, 0.3),
            "latency_p99": flat(0.85),
        },
        "database": {
            "span_s": 0.5,
            "statements": [
                statement(
                    "106",
                    "WITH plan AS (SELECT pg_sleep($1::float8)) SELECT id, customer, total "
                    "FROM orders, plan ORDER BY id DESC LIMIT $2",
                    7,
                    3900.0,
                    140,
                )
            ],
            "total_ms": 3900.0,
            "sessions": {"active": 5, "idle": 3},
        },
    },
}


# Scenarios where the loudest signal is not what users feel, two faults at once, and services
# whose metrics hide where the bot did not look before. `secondary` lists the causes the
# diagnosis must report beside the primary one.
COLLECTOR = "otel-collector:4318"
RUNTIME_SIGNALS = (
    "eventloop_lag_p99",
    "eventloop_lag_max",
    "cpu_cores",
    "heap_used",
    "heap_total",
    "rss",
    "external_memory",
    "gc_time_ratio",
    "active_handles",
)
SCENARIOS |= {
    "background_dependency_failing": {
        "expect": "healthy",
        "secondary": ["downstream_errors"],
        "note": "an exporter retries a collector that is not there; no request calls it",
        "changes": {
            "downstream_p99": {"pricing:3100": flat(0.03), COLLECTOR: flat(0.004)},
            "downstream_rate": {"pricing:3100": flat(10.5), COLLECTOR: flat(2.0)},
            "downstream_error_ratio": {"pricing:3100": flat(0.001, 0.5), COLLECTOR: flat(1.0, 0)},
        },
    },
    "slow_downstream_with_background_failures": {
        "expect": "slow_downstream",
        "secondary": ["downstream_errors"],
        "note": "the failing collector is louder; the slow dependency makes the whole p99",
        "changes": {
            "downstream_p99": {"pricing:3100": flat(2.4), COLLECTOR: flat(0.004)},
            "downstream_rate": {"pricing:3100": flat(10.5), COLLECTOR: flat(2.0)},
            "downstream_error_ratio": {"pricing:3100": flat(0.001, 0.5), COLLECTOR: flat(1.0, 0)},
            "latency_p99": flat(2.5),
            "latency_p95": flat(2.2),
        },
    },
    "compound_slow_downstream_heap_leak": {
        "expect": "slow_downstream",
        "secondary": ["heap_leak"],
        "changes": {
            "downstream_p99": {"pricing:3100": flat(2.4)},
            "latency_p99": flat(2.5),
            "latency_p95": flat(2.2),
            "heap_used": sawtooth(ramp(60 * MIB, 260 * MIB, 0.01), 15 * MIB),
            "heap_total": ramp(90 * MIB, 300 * MIB, 0.01),
            "rss": ramp(150 * MIB, 380 * MIB, 0.01),
        },
    },
    "compound_event_loop_blocked_db_pool": {
        "expect": "db_pool_saturated",
        "secondary": ["event_loop_blocked"],
        "changes": {
            "eventloop_lag_p99": flat(0.45),
            "eventloop_lag_max": flat(0.95),
            "cpu_cores": flat(0.5),
            "db_pool_used": flat(10, 0),
            "db_pool_pending": flat(18, 0.3),
            "db_op_p99": flat(0.02),
            "latency_p99": flat(3.0),
            "latency_p95": flat(2.4),
            "error_ratio": flat(0.12),  # acquire timeouts: the pool's doing, not a spike
        },
    },
    "gc_high_harmless": {
        "expect": "healthy",
        "secondary": ["gc_pressure"],
        "note": "a busy allocator: GC takes 12 % of the time, the loop and requests are fine",
        "changes": {"gc_time_ratio": flat(0.12, 0.1), "cpu_cores": flat(0.4, 0.1)},
    },
    "healthy_near_capacity": {
        "expect": "healthy",
        "note": "honest load: a core nearly busy, short callbacks, latency within objective",
        "changes": {
            "request_rate": flat(240),
            "cpu_cores": flat(0.88, 0.04),
            "eventloop_lag_p99": flat(0.014),
            "eventloop_lag_max": flat(0.02),
            "latency_p99": flat(0.15),
        },
    },
    "insufficient_data_prefixed_metrics": {
        "expect": "insufficient_data",
        "note": "only the HTTP histogram is found: the runtime metrics carry a prefix",
        "missing": RUNTIME_SIGNALS,
        "changes": {"latency_p99": flat(0.6), "latency_p95": flat(0.25)},
    },
    "event_loop_blocked_allocating": {
        "expect": "event_loop_blocked",
        "note": "large JSON built synchronously: GC is busy with short pauses, the loop stalls",
        "changes": {
            "eventloop_lag_p99": flat(0.38),
            "eventloop_lag_max": flat(0.6),
            "gc_time_ratio": flat(0.14, 0.1),
            "gc_pause_p99": flat(0.009),
            "cpu_cores": flat(0.7),
            "latency_p99": flat(0.95),
        },
    },
    "gc_pressure_long_pauses": {
        "expect": "gc_pressure",
        "note": "major collections of a big live set: the pauses are the lag",
        "changes": {
            "gc_time_ratio": flat(0.16, 0.1),
            "gc_pause_p99": flat(0.12),
            "eventloop_lag_p99": flat(0.15),
            "eventloop_lag_max": flat(0.22),
            "cpu_cores": flat(0.8),
            "heap_used": sawtooth(flat(300 * MIB, 0.02), 200 * MIB),
            "heap_total": flat(600 * MIB, 0.01),
        },
    },
    "slow_queries_before_the_loop": {
        "expect": "slow_queries",
        "secondary": ["event_loop_blocked"],
        "note": "queries slowed four minutes before the loop stalled: not the loop's echo",
        "changes": {
            "db_op_p99": step_up(-540, 0.02, 0.7),
            "eventloop_lag_p99": step_up(-300, 0.012, 0.3),
            "eventloop_lag_max": step_up(-300, 0.03, 0.35),
            "latency_p99": step_up(-540, 0.12, 1.0),
        },
    },
    "event_loop_blocked_then_timings": {
        "expect": "event_loop_blocked",
        "note": "the loop stalls and every timing taken in the process rises with it",
        "changes": {
            "eventloop_lag_p99": step_up(-400, 0.012, 0.34),
            "eventloop_lag_max": step_up(-400, 0.03, 0.5),
            "db_op_p99": step_up(-400, 0.02, 0.3),
            "downstream_p99": {"pricing:3100": step_up(-400, 0.03, 0.45)},
            "latency_p99": step_up(-400, 0.12, 0.9),
        },
    },
    "insufficient_data_slow_but_loop_unmeasured": {
        "expect": "insufficient_data",
        "note": "latency is over objective and nothing measured explains it: the loop was not seen",
        "missing": RUNTIME_SIGNALS,
        "changes": {"latency_p99": flat(1.4), "latency_p95": flat(0.9)},
    },
}


def build(name: str, spec: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    shapes = healthy() | spec["changes"]
    signals: dict[str, Any] = {}
    for signal, shape in shapes.items():
        if isinstance(shape, dict):
            signals[signal] = [
                one
                for dep, dep_shape in shape.items()
                for one in series(dep_shape, rng, {"server_address": dep})
            ]
        else:
            signals[signal] = series(shape, rng)
    recording: dict[str, Any] = {
        "service": "checkout",
        "selector": '{service="checkout"}',
        "expect": spec["expect"],
        "signals": signals,
    }
    for extra in ("apm", "database", "note", "secondary"):
        if extra in spec:
            recording[extra] = spec[extra]
    if "missing" in spec:
        recording["missing"] = dict.fromkeys(spec["missing"], "not exported under this name")
        for key in spec["missing"]:
            signals.pop(key, None)
    return recording


def main() -> None:
    for seed, (name, spec) in enumerate(SCENARIOS.items()):
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(build(name, spec, seed), indent=1) + "\n", encoding="utf-8")
    empty = {
        "service": "ghost",
        "selector": '{service="ghost"}',
        "expect": "insufficient_data",
        "signals": {},
    }
    (HERE / "insufficient_data.json").write_text(json.dumps(empty, indent=1) + "\n")


if __name__ == "__main__":
    main()
