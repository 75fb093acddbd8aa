"""Missing indexes: a top statement whose generic plan reads a large table in full to filter it."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.postgres.model import DatabaseEvidence, ScanOnLargeTable, StatementStat
from bot.triage.checks.base import CheckContext, CheckParams, finding
from bot.triage.checks.pg_common import DatabaseCheck, describe, evidence_of, quoted
from bot.triage.checks.units import mebibytes, rounded


class PgPlansParams(CheckParams):
    min_rows: float = Field(default=100_000, gt=0)
    min_mean_ms: float = Field(default=5, ge=0)
    crit_share: float = Field(default=0.5, gt=0, le=1)
    shown: int = Field(default=3, ge=1, le=10)


class PgPlans(DatabaseCheck[PgPlansParams]):
    kind = "pg_plans"
    params_model = PgPlansParams

    def evaluate(self, params: PgPlansParams, ctx: CheckContext) -> list[Finding]:
        evidence = evidence_of(ctx)
        found: list[tuple[float, Finding]] = []
        for scan in evidence.scans:
            statement = evidence.statement(scan.queryid)
            if statement is None or not scan.columns or scan.rows < params.min_rows:
                continue
            if scan.existing_index is not None:
                found.append((0.0, _scanned_despite_index(scan, statement)))
            elif statement.mean_ms >= params.min_mean_ms:
                share = evidence.share(statement)
                found.append((share, _missing_index(params, scan, statement, evidence)))
        if not found:
            summary = "No top statement reads a large table in full (generic plans checked)"
            return [finding("db_plans", "info", summary)]
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [one for _, one in found[: params.shown]]


def _table(scan: ScanOnLargeTable) -> str:
    return f"{scan.schema_name}.{scan.table}"


def _missing_index(
    params: PgPlansParams,
    scan: ScanOnLargeTable,
    statement: StatementStat,
    evidence: DatabaseEvidence,
) -> Finding:
    share = evidence.share(statement)
    columns = ", ".join(scan.columns)
    summary = (
        f"Sequential scan of `{_table(scan)}` ({scan.rows:,.0f} rows, "
        f"{mebibytes(scan.size_bytes)}) filtered by {columns} for {quoted(statement.text)} "
        f"({describe(statement, evidence)})"
    )
    advice = (
        f"Index the filtered column{'s' if len(scan.columns) > 1 else ''}: "
        f"`{scan.create_index}` (CONCURRENTLY keeps the table writable while it builds; "
        "it cannot run inside a transaction). Then confirm with EXPLAIN that the statement "
        "uses it."
    )
    return finding(
        "db_missing_index",
        "crit" if share >= params.crit_share else "warn",
        summary,
        advice,
        observed={
            "table": _table(scan),
            "columns": columns,
            "rows": scan.rows,
            "size_bytes": scan.size_bytes,
            "create_index": scan.create_index,
            "statement": statement.text,
            "share": rounded(share, 3),
            "mean_ms": rounded(statement.mean_ms, 2),
        },
        threshold={"min_rows": params.min_rows, "crit_share": params.crit_share},
    )


def _scanned_despite_index(scan: ScanOnLargeTable, statement: StatementStat) -> Finding:
    summary = (
        f"`{_table(scan)}` is read in full by {quoted(statement.text)} although "
        f"`{scan.existing_index}` starts with {scan.columns[0]}: the planner expects the "
        "filter to keep most rows"
    )
    return finding(
        "db_scan_despite_index",
        "info",
        summary,
        observed={"table": _table(scan), "index": scan.existing_index},
    )
