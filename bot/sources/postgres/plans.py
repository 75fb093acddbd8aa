"""Generic plans for the top statements, and the facts about the tables they scan.

A normalised statement has `$n` where its constants were, so it is planned without values:
`EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16+, and on 13-15 a prepared statement explained with
NULL arguments under `plan_cache_mode = force_generic_plan` (the NULLs are never bound into
the plan: a generic plan keeps them as parameters). Never `ANALYZE`: nothing is executed,
and every statement runs inside the session's read-only, time-limited transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from bot.sources.postgres.session import Session
from bot.sources.postgres.sqltext import OWN_MARKER, is_plannable_select, parameter_count

GENERIC_PLAN_SINCE = 160000
_PREPARED = "triage_bot_plan"
_EXPLAIN = "EXPLAIN (FORMAT JSON, VERBOSE"


class NotPlannable(ValueError):
    """The statement is not a single read-only query the bot will hand to EXPLAIN."""


async def generic_plan(session: Session, text: str, version: int) -> Any:
    """The parsed EXPLAIN JSON of `text` (a normalised statement from pg_stat_statements)."""
    body = text.strip().rstrip(";").strip()
    if not is_plannable_select(body):
        raise NotPlannable("not a single read-only statement")
    if version >= GENERIC_PLAN_SINCE:
        async with session.reading():
            rows = await session.rows(_bytes(f"{OWN_MARKER} {_EXPLAIN}, GENERIC_PLAN) ", body))
        return rows[0]["QUERY PLAN"]
    # A fresh name each time: after a failure the statement may linger until the session
    # closes (a failed transaction cannot deallocate it), and must not block the next plan.
    name = f"{_PREPARED}_{session.statements}"
    arguments = ", ".join(["NULL"] * parameter_count(body))
    execute = f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}"
    async with session.reading({"plan_cache_mode": "force_generic_plan"}):
        await session.rows(_bytes(f"{OWN_MARKER} PREPARE {name} AS ", body))
        rows = await session.rows(_bytes(f"{OWN_MARKER} {_EXPLAIN}) {execute}", ""))
        await session.rows(_bytes(f"{OWN_MARKER} DEALLOCATE {name}", ""))
    return rows[0]["QUERY PLAN"]


def _bytes(prefix: str, body: str) -> bytes:
    # Sent as bytes without parameters: psycopg passes the text through untouched (a `%`
    # in the statement stays a modulo operator), over the simple query protocol.
    return (prefix + body).encode("utf-8")


@dataclass(frozen=True)
class TableFacts:
    schema_name: str
    table: str
    rows: float
    size_bytes: int
    columns: tuple[str, ...]
    leading_index: dict[str, str]  # column -> an index whose first column it is


_TABLES = sql.SQL(
    """/* triage-bot */
SELECT n.nspname AS schema_name, c.relname AS table_name,
    greatest(c.reltuples, 0)::float8 AS rows, pg_total_relation_size(c.oid) AS size_bytes,
    ARRAY(SELECT a.attname::text FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum) AS columns,
    ARRAY(SELECT ARRAY[a.attname::text, i.indexrelid::regclass::text] FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
          WHERE i.indrelid = c.oid AND i.indisvalid) AS leading_index
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname) IN (
    SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[]))"""
)


async def table_facts(
    session: Session, tables: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], TableFacts]:
    """Size, columns and leading index columns of each (schema, table), in one statement."""
    if not tables:
        return {}
    params = {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]}
    async with session.reading():
        rows = await session.rows(_TABLES, params)
    facts = [
        TableFacts(
            schema_name=row["schema_name"],
            table=row["table_name"],
            rows=float(row["rows"]),
            size_bytes=int(row["size_bytes"]),
            columns=tuple(row["columns"]),
            leading_index=dict(row["leading_index"]),
        )
        for row in rows
    ]
    return {(fact.schema_name, fact.table): fact for fact in facts}
