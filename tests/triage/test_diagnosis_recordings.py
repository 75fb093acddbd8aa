"""Every cause, diagnosed from recorded series, including the confounded ones."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.triage.engine import TriageRequest, run_triage
from bot.triage.recorded import RecordedSignalSource
from bot.triage.window import parse_window
from tests.triage.helpers import (
    END,
    RECORDINGS,
    finding_codes,
    nodejs_playbook,
    recording,
    triage_recording,
)

NAMES = sorted(path.stem for path in RECORDINGS.glob("*.json"))
CAUSES_COVERED = {recording(name)["expect"] for name in NAMES}


def test_every_cause_has_a_recording() -> None:
    from typing import get_args

    from bot.models import Cause

    assert set(get_args(Cause)) == CAUSES_COVERED


@pytest.mark.parametrize("name", NAMES)
async def test_recording_is_diagnosed_as_expected(name: str) -> None:
    report = await triage_recording(name)
    assert report.diagnosis.cause == recording(name)["expect"], report.diagnosis.summary
    assert 0.0 <= report.diagnosis.confidence <= 1.0
    assert report.diagnosis.summary


async def test_blocked_loop_is_blamed_before_the_latencies_it_inflates() -> None:
    report = await triage_recording("event_loop_blocked")
    flagged = finding_codes(report, "warn", "crit")
    assert {"db_op_latency", "downstream_latency"} <= flagged  # the inflated timings are there
    assert report.diagnosis.cause == "event_loop_blocked"
    assert re.search(r"p99 lag 3\d\d ms", report.diagnosis.summary)


async def test_gc_pauses_read_as_lag_but_gc_is_blamed() -> None:
    report = await triage_recording("gc_pressure")
    assert {"eventloop_lag", "gc_time"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "gc_pressure"
    assert "eventloop_lag" in report.diagnosis.supporting


async def test_busy_core_with_moderate_lag_is_cpu_not_blocking() -> None:
    report = await triage_recording("cpu_saturated")
    assert "eventloop_lag" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "cpu_saturated"


async def test_high_lag_with_a_busy_core_is_still_blocking() -> None:
    report = await triage_recording("event_loop_blocked_busy_cpu")
    assert {"eventloop_lag", "cpu_busy"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "event_loop_blocked"


async def test_waiting_for_the_pool_is_not_slow_queries() -> None:
    report = await triage_recording("db_pool_saturated_slow_held_ops")
    assert {"db_pool_waiting", "db_op_latency"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "db_pool_saturated"


async def test_slow_queries_with_a_free_pool() -> None:
    report = await triage_recording("slow_queries")
    assert "db_pool_waiting" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "slow_queries"


async def test_slow_downstream_leaves_the_loop_healthy() -> None:
    report = await triage_recording("slow_downstream")
    event_loop = next(step for step in report.steps if step.id == "event_loop")
    assert event_loop.status == "ok"
    assert report.diagnosis.cause == "slow_downstream"
    assert "pricing:3100" in report.diagnosis.summary


async def test_fan_out_beats_the_lag_it_causes() -> None:
    report = await triage_recording("unbounded_concurrency")
    assert "eventloop_lag" in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "unbounded_concurrency"
    assert set(report.diagnosis.supporting) == {"outbound_fanout", "active_handles"}


async def test_leak_beats_the_gc_time_it_causes() -> None:
    report = await triage_recording("heap_leak")
    assert "gc_time" in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "heap_leak"


async def test_native_growth_needs_a_flat_heap() -> None:
    report = await triage_recording("native_memory_growth")
    assert "heap_growth" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "native_memory_growth"


async def test_dependency_errors_explain_the_service_errors() -> None:
    report = await triage_recording("downstream_errors")
    assert {"downstream_errors", "service_errors"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "downstream_errors"


async def test_service_errors_without_a_failing_dependency_are_a_spike() -> None:
    report = await triage_recording("error_spike")
    assert "downstream_errors" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "error_spike"


async def test_one_slow_route_from_the_apm() -> None:
    report = await triage_recording("slow_endpoint")
    assert report.diagnosis.cause == "slow_endpoint"
    assert "GET /api/report" in report.diagnosis.summary


async def test_no_series_hints_at_the_selector() -> None:
    report = await triage_recording("insufficient_data")
    assert report.diagnosis.cause == "insufficient_data"
    assert '{service="ghost"}' in report.diagnosis.summary


async def test_healthy_has_no_warn_or_crit_step() -> None:
    report = await triage_recording("healthy")
    assert all(step.status == "ok" for step in report.steps)
    assert report.diagnosis.cause == "healthy"


async def test_a_heap_warming_up_after_start_is_not_a_leak() -> None:
    report = await triage_recording("healthy_heap_warming_up")
    assert "heap_growth" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "healthy"


async def test_a_young_process_pinning_a_core_is_seen_before_its_rate_range_fills() -> None:
    report = await triage_recording("cpu_saturated_young_process")
    assert "cpu_busy" in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "cpu_saturated"


async def test_a_missing_index_names_table_column_size_and_the_index_to_build() -> None:
    report = await triage_recording("missing_index")
    assert report.diagnosis.cause == "missing_index"
    assert "`public.orders` (500,000 rows, 59 MiB) filtered by customer_email" in (
        report.diagnosis.summary
    )
    assert "CREATE INDEX CONCURRENTLY ON public.orders (customer_email);" in (
        report.diagnosis.advice
    )


async def test_repeated_cheap_lookups_are_n_plus_one_from_both_sources() -> None:
    report = await triage_recording("n_plus_one_queries")
    assert report.diagnosis.cause == "n_plus_one_queries"
    assert set(report.diagnosis.supporting) == {"db_repeated_statement", "db_calls_per_request"}
    assert "`SELECT name, email FROM customers WHERE id = $1` runs 23 times per request" in (
        report.diagnosis.summary
    )


async def test_lock_waits_beat_the_full_pool_and_slow_statements_they_cause() -> None:
    report = await triage_recording("lock_contention")
    assert {"db_pool_waiting", "db_op_latency"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "lock_contention"
    summary = report.diagnosis.summary
    assert "held by pid 4242 (checkout, idle in transaction)" in summary
    assert "open 2.3 s; its last statement: `UPDATE inventory SET reserved = ? WHERE sku = $1`" in (
        summary
    )
    assert "pg_terminate_backend(4242)" in report.diagnosis.advice


async def test_sessions_left_in_a_transaction_beat_the_queue_and_errors_they_cause() -> None:
    report = await triage_recording("connection_leak")
    flagged = finding_codes(report, "warn", "crit")
    assert {"db_pool_waiting", "service_errors", "db_idle_in_transaction"} <= flagged
    assert report.diagnosis.cause == "connection_leak"
    assert "10 sessions sit idle inside an open transaction, the oldest for 58 s" in (
        report.diagnosis.summary
    )


async def test_a_pool_held_but_unused_under_flat_traffic_is_a_leak_without_a_database() -> None:
    report = await triage_recording("connection_leak_pool_metrics")
    assert report.diagnosis.cause == "connection_leak"
    assert report.diagnosis.supporting == ("db_pool_held_idle",)
    database = next(step for step in report.steps if step.id == "database")
    [off] = [f for f in database.findings if f.code == "db_evidence_off"]
    assert "would also name its heaviest statements" in off.summary


async def test_a_saturated_pool_still_running_statements_is_not_a_leak() -> None:
    report = await triage_recording("db_pool_saturated")
    assert "db_pool_held_idle" not in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "db_pool_saturated"


async def test_evidence_without_a_scan_lock_or_leak_leaves_slow_queries() -> None:
    report = await triage_recording("slow_queries_with_database")
    flagged = finding_codes(report, "warn", "crit")
    assert not flagged & {"db_missing_index", "db_lock_waits", "db_idle_in_transaction"}
    assert report.diagnosis.cause == "slow_queries"


SECONDARY = [name for name in NAMES if recording(name).get("secondary")]


@pytest.mark.parametrize("name", SECONDARY)
async def test_what_else_was_found_is_reported_beside_the_cause(name: str) -> None:
    report = await triage_recording(name)
    reported = {other.cause for other in report.diagnosis.secondary}
    assert set(recording(name)["secondary"]) <= reported, report.diagnosis.summary
    assert report.diagnosis.cause not in reported


async def test_a_loud_background_failure_is_not_the_cause_of_a_slow_dependency_p99() -> None:
    report = await triage_recording("slow_downstream_with_background_failures")
    assert "downstream_errors" in finding_codes(report, "crit")  # the loudest signal
    assert report.diagnosis.cause == "slow_downstream"
    assert (report.diagnosis.share or 0.0) > 0.9
    [background] = report.diagnosis.secondary
    assert background.share == 0.0
    assert "otel-collector:4318" in background.summary
    assert "outside requests" in background.summary


async def test_a_background_failure_alone_leaves_the_service_healthy() -> None:
    report = await triage_recording("background_dependency_failing")
    assert report.diagnosis.cause == "healthy"
    assert [(o.cause, o.share) for o in report.diagnosis.secondary] == [("downstream_errors", 0.0)]


async def test_a_leak_that_explains_no_latency_is_second_to_the_slow_dependency() -> None:
    report = await triage_recording("compound_slow_downstream_heap_leak")
    assert "heap_growth" in finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "slow_downstream"
    [leak] = report.diagnosis.secondary
    assert (leak.cause, leak.share) == ("heap_leak", 0.0)


async def test_two_faults_each_with_a_large_share_are_both_named() -> None:
    report = await triage_recording("compound_event_loop_blocked_db_pool")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "db_pool_saturated"
    [loop] = diagnosis.secondary
    assert loop.cause == "event_loop_blocked"
    assert (loop.share or 0.0) >= 0.25
    assert (diagnosis.share or 0.0) + (loop.share or 0.0) <= 1.0
    assert "A second fault explains a large part too: event loop blocked" in diagnosis.summary
    single = await triage_recording("db_pool_saturated")
    assert diagnosis.confidence < single.diagnosis.confidence


async def test_harmless_gc_and_honest_load_are_healthy() -> None:
    gc = await triage_recording("gc_high_harmless")
    assert "gc_time" in finding_codes(gc, "warn", "crit")
    assert gc.diagnosis.cause == "healthy"
    busy = await triage_recording("healthy_near_capacity")
    assert "cpu_busy" in finding_codes(busy, "warn", "crit")
    assert busy.diagnosis.cause == "healthy"
    assert "Capacity: the process is busy" in busy.diagnosis.summary


@pytest.mark.parametrize(
    "name", ["insufficient_data_prefixed_metrics", "insufficient_data_slow_but_loop_unmeasured"]
)
async def test_no_all_clear_without_the_loop_and_memory(name: str) -> None:
    report = await triage_recording(name)
    assert report.diagnosis.cause == "insufficient_data"
    assert "Not measured: event-loop lag and memory (heap and GC)" in report.diagnosis.summary
    assert "collectDefaultMetrics()" in report.diagnosis.summary
    assert report.diagnosis.confidence < 0.9


async def test_gc_busy_under_allocating_sync_work_stays_a_blocked_loop() -> None:
    report = await triage_recording("event_loop_blocked_allocating")
    assert {"eventloop_lag", "gc_time"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "event_loop_blocked"
    assert "its pauses are far shorter than the lag" in report.diagnosis.summary


async def test_gc_pauses_as_long_as_the_lag_are_gc_pressure() -> None:
    report = await triage_recording("gc_pressure_long_pauses")
    assert "gc_time" not in finding_codes(report, "crit")  # a warn share, but long pauses
    assert report.diagnosis.cause == "gc_pressure"
    assert "eventloop_lag" in report.diagnosis.supporting


async def test_a_timing_that_moved_before_the_loop_is_its_own_fault() -> None:
    report = await triage_recording("slow_queries_before_the_loop")
    assert report.diagnosis.cause == "slow_queries"
    assert "Database time moved first; event-loop lag followed 240 s later." in (
        report.diagnosis.summary
    )
    assert [o.cause for o in report.diagnosis.secondary] == ["event_loop_blocked"]


async def test_timings_that_rise_with_the_loop_are_folded_into_it() -> None:
    report = await triage_recording("event_loop_blocked_then_timings")
    assert {"db_op_latency", "downstream_latency"} <= finding_codes(report, "warn", "crit")
    assert report.diagnosis.cause == "event_loop_blocked"
    assert report.diagnosis.secondary == ()
    assert "Event-loop lag and database time moved together." in report.diagnosis.summary


async def test_a_triage_without_the_loop_and_memory_steps_does_not_ask_for_them() -> None:
    playbook = nodejs_playbook()
    database_only = dataclasses.replace(
        playbook, steps=tuple(s for s in playbook.steps if s.id == "database")
    )
    data = recording("insufficient_data_prefixed_metrics")
    request = TriageRequest(
        service="checkout",
        window=parse_window("10m", end=END),
        playbook=database_only,
        source=RecordedSignalSource.from_dict(data),
    )
    report = await run_triage(request)
    assert report.diagnosis.cause == "healthy"
    assert "Not measured" not in report.diagnosis.summary
