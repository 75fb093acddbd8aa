"""From the top statements to `ScanOnLargeTable` facts: plan each, find filtered scans, size them.

A statement whose plan cannot be read (a parameter whose type PostgreSQL cannot infer, a
missing grant, a timeout) adds a note and the others are still planned.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from bot.sources.postgres.model import ScanOnLargeTable
from bot.sources.postgres.plan_reading import (
    FilteredScan,
    filtered_columns,
    filtered_scans,
    index_statement,
)
from bot.sources.postgres.plans import NotPlannable, TableFacts, generic_plan, table_facts
from bot.sources.postgres.problems import Where, problem_from
from bot.sources.postgres.session import Session


async def large_table_scans(
    session: Session,
    *,
    version: int,
    plannable: Sequence[tuple[str, str]],
    max_plans: int,
    notes: list[str],
    user: str,
) -> list[ScanOnLargeTable]:
    """Filtered sequential scans in the plans of the first `max_plans` statements."""
    found: list[tuple[str, FilteredScan]] = []
    for queryid, text in plannable[:max_plans]:
        try:
            plan = await generic_plan(session, text, version)
        except NotPlannable:
            continue
        except psycopg.Error as error:
            problem = problem_from(error, Where(env="", user=user))
            notes.append(f"the plan of statement {queryid} could not be read: {problem.line}")
            continue
        found += [(queryid, scan) for scan in filtered_scans(plan)]
    tables = sorted({(scan.schema_name, scan.table) for _, scan in found})
    try:
        facts = await table_facts(session, tables)
    except psycopg.Error as error:
        problem = problem_from(error, Where(env="", user=user))
        notes.append(f"the sizes of the scanned tables could not be read: {problem.line}")
        return []
    scans: dict[tuple[str, str, tuple[str, ...]], ScanOnLargeTable] = {}
    for queryid, scan in found:
        fact = facts.get((scan.schema_name, scan.table))
        if fact is None:
            continue
        one = _scan(queryid, scan, fact)
        scans.setdefault((one.schema_name, one.table, one.columns), one)
    return list(scans.values())


def _scan(queryid: str, scan: FilteredScan, fact: TableFacts) -> ScanOnLargeTable:
    columns = filtered_columns(scan, fact.columns)
    return ScanOnLargeTable(
        queryid=queryid,
        schema_name=fact.schema_name,
        table=fact.table,
        columns=columns,
        rows=fact.rows,
        size_bytes=fact.size_bytes,
        create_index=index_statement(fact.schema_name, fact.table, columns) if columns else "",
        existing_index=fact.leading_index.get(columns[0]) if columns else None,
    )
