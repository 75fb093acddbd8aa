"""The checks that read PostgreSQL evidence, on a healthy service's metrics and hand-made
evidence: what they flag, what they leave alone, and a problem that changes nothing else."""

from __future__ import annotations

from typing import Any

from bot.models import Finding, TriageReport
from bot.sources.signals import Signal
from bot.triage.engine import TriageRequest, run_triage
from bot.triage.recorded import RecordedSignalSource
from bot.triage.window import parse_window
from tests.triage.helpers import END, RecordedDatabase, nodejs_playbook, recording


def stat(queryid: str, text: str, calls: float, total_ms: float, rows: float) -> dict[str, Any]:
    return {"queryid": queryid, "text": text, "calls": calls, "total_ms": total_ms, "rows": rows}


def scan(queryid: str, rows: float, existing_index: str | None = None) -> dict[str, Any]:
    return {
        "queryid": queryid,
        "schema_name": "public",
        "table": "orders",
        "columns": ["customer_email"],
        "rows": rows,
        "size_bytes": 61_849_600,
        "create_index": "CREATE INDEX CONCURRENTLY ON public.orders (customer_email);",
        "existing_index": existing_index,
    }


async def database_step(evidence: dict[str, Any]) -> tuple[TriageReport, list[Finding]]:
    data = recording("healthy")
    request = TriageRequest(
        service="checkout",
        window=parse_window("10m", end=END),
        playbook=nodejs_playbook(),
        source=RecordedSignalSource.from_dict(data),
        database=RecordedDatabase({"span_s": 0.5, **evidence}),
    )
    report = await run_triage(request)
    step = next(s for s in report.steps if s.id == "database")
    return report, list(step.findings)


def codes(findings: list[Finding], *severities: str) -> set[str]:
    return {f.code for f in findings if f.severity in severities}


async def test_the_overview_names_the_heaviest_the_slowest_and_the_most_called() -> None:
    statements = [
        stat("1", "SELECT a FROM t1 WHERE x = $1", 10, 500, 10),
        stat("2", "SELECT b FROM t2 WHERE y = $1", 10, 400, 10),
        stat("3", "SELECT c FROM t3 WHERE z = $1", 10, 300, 10),
        stat("4", "SELECT pg_sleep($1)", 1, 250, 1),
        stat("5", "SELECT d FROM t4 WHERE id = $1", 60, 3, 60),
    ]
    _, findings = await database_step({"statements": statements, "total_ms": 1453})
    [overview] = [f for f in findings if f.code == "db_top_statements"]
    summary = overview.summary
    assert summary.startswith("Most database time over 0.5 s (pg_stat_statements): ")
    assert summary.index("`SELECT a FROM t1") < summary.index("`SELECT b") < summary.index("t3")
    assert "Slowest on average: `SELECT pg_sleep($1)` (17% of database time, mean 250 ms" in summary
    # 60 calls in 0.5 s against the recording's 30 requests a second
    assert "Called most: `SELECT d FROM t4 WHERE id = $1` (4.0 per request)" in summary


async def test_small_tables_indexed_columns_and_cheap_statements_are_not_missing_indexes() -> None:
    statements = [stat("1", "SELECT id FROM orders WHERE customer_email = $1", 4, 100, 4)]
    for evidence_scan, code in [
        (scan("1", rows=50_000), "db_plans"),
        (scan("1", rows=500_000, existing_index="orders_email"), "db_scan_despite_index"),
    ]:
        _, findings = await database_step({"statements": statements, "scans": [evidence_scan]})
        assert code in codes(findings, "info")
        assert "db_missing_index" not in codes(findings, "warn", "crit")
    cheap = [stat("1", "SELECT id FROM orders WHERE customer_email = $1", 400, 100, 400)]
    _, findings = await database_step({"statements": cheap, "scans": [scan("1", 500_000)]})
    assert "db_missing_index" not in codes(findings, "warn", "crit")  # mean 0.25 ms


async def test_a_short_idle_transaction_is_not_a_leak_and_many_waiters_are_critical() -> None:
    idle = {"pid": 7, "application": "checkout", "idle_s": 3.0, "transaction_s": 3.0}
    wait = {
        "waiting": 6,
        "longest_wait_s": 1.0,
        "waiting_statement": "UPDATE stock SET n = n - ? WHERE sku = $1",
        "blocker_pid": 7,
        "blocker_application": "checkout",
        "blocker_state": "idle in transaction",
        "blocker_held_s": 3.0,
        "blocker_statement": "UPDATE stock SET n = ? WHERE sku = $1",
    }
    evidence = {"idle_in_transaction": [{**idle, "statement": "SELECT 1"}], "lock_waits": [wait]}
    report, findings = await database_step(evidence)
    assert "db_idle_in_transaction" not in codes(findings, "warn", "crit")
    assert "db_lock_waits" in codes(findings, "crit")
    assert report.diagnosis.cause == "lock_contention"


async def test_a_problem_is_one_line_and_the_metrics_verdict_stands() -> None:
    problem = (
        "role bot cannot see other roles' statements and sessions: run GRANT pg_monitor TO bot"
    )
    report, findings = await database_step({"problem": problem})
    assert [f.summary for f in findings if f.code == "db_evidence_problem"] == [
        f"Database evidence unavailable: {problem}"
    ]
    assert not codes(findings, "warn", "crit")
    assert next(s for s in report.steps if s.id == "database").status == "ok"
    assert report.diagnosis.cause == "healthy"


def test_the_database_step_reads_the_operation_rate() -> None:
    database = next(step for step in nodejs_playbook().steps if step.id == "database")
    signals = set().union(*(spec.kind.signals(spec.params) for spec in database.checks))
    assert Signal.DB_OP_RATE in signals
