"""Database evidence against a real PostgreSQL: statements, plans, locks and idle transactions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest

from bot.sources.postgres import DatabaseConfig, DatabaseEvidence, Sampling, ServiceEvidence
from tests.sources.postgres.conftest import SERVICE_ROLE, Cluster

pytestmark = pytest.mark.asyncio(loop_scope="session")
ENV = "SHOP_DATABASE_URL"
EMAIL_QUERY = "SELECT id, total FROM orders WHERE customer_email = %s"


class Clock:
    """Monotonic time the test moves by hand (asyncio sleeps stay real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def evidence_for(cluster: Cluster, clock: Clock | None = None, **config: str) -> ServiceEvidence:
    settings = {"role": SERVICE_ROLE, "application_name": SERVICE_ROLE, **config}
    return ServiceEvidence(
        DatabaseConfig(dsn_env=ENV, **settings),
        cluster.secret(),
        clock=clock or time.monotonic,
    )


async def collected_after(
    cluster: Cluster, work: list[tuple[str, list[object] | None]], **config: str
) -> DatabaseEvidence:
    """Evidence whose span covers exactly `work`: a first triage, the work, then 30 s later."""
    clock = Clock()
    evidence = evidence_for(cluster, clock, **config)
    try:
        first = await evidence.collect(window_s=600)
        assert first.problem is None, first.problem
        async with await cluster.connect() as connection:
            for statement, params in work:
                await connection.execute(
                    statement.encode() if params is None else statement, params
                )
        clock.now += 30
        return await evidence.collect(window_s=600)
    finally:
        await evidence.close()


async def test_statements_are_counted_over_the_span_and_shown_without_literals(
    cluster: Cluster,
) -> None:
    work: list[tuple[str, list[object] | None]] = [
        (EMAIL_QUERY, [f"customer-{i}@example.com"]) for i in range(7)
    ]
    work += [("SELECT name, email FROM customers WHERE id = %s", [i + 1]) for i in range(40)]
    work.append(("SELECT count(*) FROM customers WHERE name = 'zq-private-value'", None))
    found = await collected_after(cluster, work)

    assert found.problem is None
    assert found.span_s == 30
    by_text = {s.text: s for s in found.statements}
    emails = by_text["SELECT id, total FROM orders WHERE customer_email = $1"]
    lookups = by_text["SELECT name, email FROM customers WHERE id = $1"]
    assert (emails.calls, lookups.calls, lookups.rows_per_call) == (7, 40, 1)
    assert emails.total_ms > lookups.total_ms
    assert found.share(emails) > 0.5
    assert "zq-private-value" not in found.model_dump_json()
    assert not any("triage-bot" in s.text or "pg_stat" in s.text for s in found.statements)


async def test_a_filtered_scan_of_a_large_table_names_table_columns_size_and_index(
    cluster: Cluster,
) -> None:
    found = await collected_after(cluster, [(EMAIL_QUERY, ["customer-9@example.com"])] * 3)

    [scan] = found.scans
    assert (scan.schema_name, scan.table, scan.columns) == ("public", "orders", ("customer_email",))
    assert scan.rows > 450_000
    assert scan.size_bytes > 20 * 1024 * 1024
    assert scan.create_index == "CREATE INDEX CONCURRENTLY ON public.orders (customer_email);"
    assert scan.existing_index is None
    assert found.statement(scan.queryid) is not None


async def test_an_indexed_lookup_is_not_a_finding(cluster: Cluster) -> None:
    await cluster.sql(
        "CREATE TABLE IF NOT EXISTS orders_by_email AS SELECT * FROM orders LIMIT 200000;"
        "CREATE INDEX IF NOT EXISTS orders_by_email_email ON orders_by_email (customer_email);"
        f"GRANT SELECT ON orders_by_email TO {SERVICE_ROLE}; ANALYZE orders_by_email;"
    )
    query = "SELECT id FROM orders_by_email WHERE customer_email = %s"
    found = await collected_after(cluster, [(query, ["customer-3@example.com"])] * 5)

    assert any("orders_by_email" in s.text for s in found.statements)
    assert found.scans == ()


async def test_planning_never_runs_the_statement(cluster: Cluster) -> None:
    await cluster.sql(
        "CREATE SEQUENCE IF NOT EXISTS plan_probe_seq;"
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE plan_probe_seq TO {SERVICE_ROLE};"
    )
    found = await collected_after(cluster, [("SELECT nextval('plan_probe_seq')", None)] * 5)
    after = await cluster.sql("SELECT last_value FROM plan_probe_seq")

    assert any("nextval" in s.text for s in found.statements)
    assert int(after) == 5  # the service's five calls; planning added none


async def test_a_statement_that_writes_is_listed_but_never_planned(cluster: Cluster) -> None:
    await cluster.sql(
        "CREATE TABLE IF NOT EXISTS audit_log (id serial PRIMARY KEY, note text);"
        f"GRANT SELECT, INSERT ON audit_log TO {SERVICE_ROLE};"
        f"GRANT USAGE ON SEQUENCE audit_log_id_seq TO {SERVICE_ROLE};"
    )
    statement = (
        "WITH added AS (INSERT INTO audit_log (note) VALUES (%s) RETURNING id) SELECT id FROM added"
    )
    found = await collected_after(cluster, [(statement, ["x"])] * 4)
    rows = await cluster.sql("SELECT count(*) FROM audit_log")

    [listed] = [s for s in found.statements if "audit_log" in s.text]
    assert listed.reads_only is False
    assert int(rows) == 4


async def test_lock_waits_name_the_session_holding_the_lock_and_its_statement(
    cluster: Cluster,
) -> None:
    await cluster.sql(
        "CREATE TABLE IF NOT EXISTS stock (sku int PRIMARY KEY, n int NOT NULL);"
        "INSERT INTO stock VALUES (1, 0) ON CONFLICT DO NOTHING;"
        f"GRANT SELECT, UPDATE ON stock TO {SERVICE_ROLE};"
    )
    async with held_row_lock(cluster) as holder, waiting_updates(cluster, 2):
        await asyncio.sleep(0.2)
        evidence = evidence_for(cluster)
        found = await evidence.collect(window_s=600)
        await evidence.close()

    [wait] = found.lock_waits
    assert wait.waiting == 2
    assert wait.blocker_pid == holder
    assert wait.blocker_state == "idle in transaction"
    assert wait.blocker_statement == "UPDATE stock SET n = n + ? WHERE sku = ?"
    assert wait.waiting_statement == "UPDATE stock SET n = n + ? WHERE sku = ?"
    assert wait.blocker_held_s > 0.2
    [idle] = found.idle_in_transaction
    assert idle.pid == holder
    assert found.sessions["active"] == 2


@asynccontextmanager
async def held_row_lock(cluster: Cluster) -> AsyncIterator[int]:
    async with await cluster.connect() as connection:
        await connection.execute(b"BEGIN")
        await connection.execute(b"UPDATE stock SET n = n + 1 WHERE sku = 1")
        try:
            yield connection.info.backend_pid
        finally:
            await connection.execute(b"ROLLBACK")


@asynccontextmanager
async def waiting_updates(cluster: Cluster, count: int) -> AsyncIterator[None]:
    connections = [await cluster.connect() for _ in range(count)]
    tasks = [
        asyncio.create_task(c.execute(b"UPDATE stock SET n = n + 2 WHERE sku = 1"))
        for c in connections
    ]
    try:
        await wait_for_waiters(cluster, count)
        yield
    finally:
        for connection in connections:
            connection.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for connection in connections:
            await connection.close()


async def wait_for_waiters(cluster: Cluster, count: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    while time.monotonic() < deadline:
        if int(await cluster.sql(query)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited on the lock")


async def test_idle_transactions_of_other_applications_are_not_the_services(
    cluster: Cluster,
) -> None:
    async with await cluster.connect(application_name="someone-else") as other:
        await other.execute(b"BEGIN")
        await other.execute(b"SELECT 1")
        evidence = evidence_for(cluster)
        found = await evidence.collect(window_s=600)
        await evidence.close()
        await other.execute(b"ROLLBACK")
    assert found.idle_in_transaction == ()


async def test_the_sample_is_taken_when_there_is_no_earlier_reading(cluster: Cluster) -> None:
    evidence = ServiceEvidence(
        DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE),
        cluster.secret(),
        sampling=Sampling(sample_s=0.3),
    )
    started = time.monotonic()
    found = await evidence.collect(window_s=600)
    await evidence.close()
    assert found.problem is None
    assert 0.29 <= found.span_s < 1.0
    assert time.monotonic() - started >= 0.3
    assert found.statements_run > 5


async def test_sessions_refuse_writes_and_slow_statements(cluster: Cluster) -> None:
    from bot.sources.postgres.session import Database

    database = Database(cluster.secret(role="postgres"), ENV)
    try:
        async with database.session() as session:
            with pytest.raises(RuntimeError, match="only inside"):
                await session.rows("SELECT 1")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                async with session.reading():
                    await session.rows("CREATE TABLE never_made (a int)")
            started = time.monotonic()
            with pytest.raises(psycopg.errors.QueryCanceled):
                async with session.reading():
                    await session.rows("SELECT pg_sleep(3)")
            assert time.monotonic() - started < 2.0
    finally:
        await database.close()
