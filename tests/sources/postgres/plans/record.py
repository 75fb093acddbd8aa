"""Record the generic plans the plan-reading tests use (run from the repository root).

    .venv/bin/python -m tests.sources.postgres.plans.record

Starts a private cluster with the lab's schema, plans each statement below the way the bot
does on PostgreSQL 13-15 (a prepared statement under `force_generic_plan`, explained with
NULL arguments), and writes `<name>.json` next to this file with the statement and the plan.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import psycopg

from bot.sources.postgres.sqltext import parameter_count
from lab.postgres import DATABASE, HOST, SUPERUSER, prepare_database, private_cluster

HERE = Path(__file__).parent
EXTRA = """
CREATE TABLE IF NOT EXISTS shipments (
  id bigserial PRIMARY KEY, order_id bigint NOT NULL, "Carrier" text NOT NULL,
  status varchar(20) NOT NULL, shipped_at timestamptz NOT NULL DEFAULT now());
INSERT INTO shipments (order_id, "Carrier", status)
  SELECT g, 'carrier-' || (g % 7), (ARRAY['new','sent','lost'])[1 + g % 3]
  FROM generate_series(1, 200000) AS g;
ANALYZE shipments;
"""
STATEMENTS = {
    "seq_scan_filter": (
        "SELECT id, total, created_at FROM orders WHERE customer_email = $1 "
        "ORDER BY created_at DESC",
        {},
    ),
    "parallel_seq_scan": (
        "SELECT id, total FROM orders WHERE customer_email = $1",
        {"max_parallel_workers_per_gather": "2"},
    ),
    "lock_rows": ("SELECT id FROM orders WHERE customer_email = $1 FOR UPDATE", {}),
    "index_scan": ("SELECT name, email FROM customers WHERE id = $1", {}),
    "unfiltered_scan": ("SELECT count(*) FROM orders", {}),
    "cast_and_range": (
        'SELECT id FROM shipments WHERE status = $1 AND shipped_at > $2 AND "Carrier" = $3',
        {},
    ),
    "join_filtered_inner": (
        "SELECT o.id, s.status FROM orders o JOIN shipments s ON s.order_id = o.id "
        "WHERE s.status = $1 AND o.id < $2",
        {},
    ),
    "subquery_in_filter": (
        "SELECT id FROM orders WHERE total > (SELECT avg(total) FROM orders "
        "WHERE customer_email = $1)",
        {},
    ),
}


async def record() -> None:
    async with private_cluster() as port:
        await prepare_database(port, roles=())
        dsn = f"postgresql://{SUPERUSER}@{HOST}:{port}/{DATABASE}"
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
            await connection.execute(EXTRA.encode())
            for name, (statement, settings) in STATEMENTS.items():
                plan = await _plan(connection, statement, settings)
                document = {"statement": statement, "plan": plan}
                path = HERE / f"{name}.json"
                path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
                print(f"wrote {path.relative_to(Path.cwd())}")


async def _plan(
    connection: psycopg.AsyncConnection[tuple[object, ...]],
    statement: str,
    settings: dict[str, str],
) -> object:
    async with connection.transaction(force_rollback=True):
        await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for key, value in settings.items():
            await connection.execute("SELECT set_config(%s, %s, true)", [key, value])
        await connection.execute(f"PREPARE recorded AS {statement}".encode())
        nulls = ", ".join(["NULL"] * parameter_count(statement))
        arguments = f"({nulls})" if nulls else ""
        cursor = await connection.execute(
            f"EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE recorded{arguments}".encode()
        )
        row = await cursor.fetchone()
        await connection.execute(b"DEALLOCATE recorded")
    assert row is not None
    return row[0]


if __name__ == "__main__":
    asyncio.run(record())
