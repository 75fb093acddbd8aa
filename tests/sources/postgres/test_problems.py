"""Every way the database evidence can fail is one line naming the problem and the fix,
and neither the DSN nor its password ever shows up in it or in the logs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import structlog
from pydantic import SecretStr

from bot.sources.postgres import DatabaseConfig, DatabaseEvidence, Limits, ServiceEvidence
from lab.procs import free_port
from tests.sources.postgres.conftest import SERVICE_ROLE, Cluster

pytestmark = pytest.mark.asyncio(loop_scope="session")
ENV = "SHOP_DATABASE_URL"
PASSWORD = "zq-hunter2-password"


async def collect(
    dsn: str | None, role: str | None = SERVICE_ROLE, limits: Limits | None = None
) -> DatabaseEvidence:
    config = DatabaseConfig(dsn_env=ENV, role=role)
    secret = SecretStr(dsn) if dsn is not None else None
    evidence = ServiceEvidence(config, secret, limits=limits)
    try:
        return await evidence.collect(window_s=600)
    finally:
        await evidence.close()


async def test_a_role_without_pg_monitor_is_told_the_grant(cluster: Cluster) -> None:
    role = await cluster.new_role()
    found = await collect(cluster.dsn(role))
    assert found.problem == (
        f"role {role} cannot see other roles' statements and sessions: "
        f"run GRANT pg_monitor TO {role}"
    )


async def test_a_role_that_may_not_read_the_table_gets_the_plan_grant_as_a_note(
    cluster: Cluster,
) -> None:
    role = await cluster.new_role("pg_monitor")
    async with await cluster.connect() as service:
        await service.execute(
            "SELECT id FROM orders WHERE customer_email = %s", ["customer-1@example.com"]
        )
        evidence = ServiceEvidence(
            DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE), cluster.secret(role)
        )
        task = asyncio.create_task(evidence.collect(window_s=600))
        for _ in range(3):  # keep the statement running while the bot samples
            await asyncio.sleep(0.1)
            await service.execute(
                "SELECT id FROM orders WHERE customer_email = %s", ["customer-2@example.com"]
            )
        found = await task
        await evidence.close()
    assert found.problem is None
    assert found.statements
    assert any(
        f"role {role} may not read table orders: run GRANT SELECT ON orders TO {role}" in note
        for note in found.notes
    ), found.notes


async def test_a_database_without_the_extension_is_told_how_to_install_it(
    cluster: Cluster,
) -> None:
    await cluster.sql("CREATE DATABASE no_statements", database="postgres")
    found = await collect(cluster.dsn("postgres", database="no_statements"), role=None)
    assert found.problem is not None
    assert found.problem.startswith(
        "pg_stat_statements is not installed in database no_statements: run CREATE EXTENSION"
    )


async def test_a_catalog_role_that_does_not_exist_is_named(cluster: Cluster) -> None:
    found = await collect(cluster.dsn(), role="ghost_role")
    assert found.problem == (
        "role ghost_role (the catalog's database.role) does not exist in database shop: "
        "fix the role name in the service catalog"
    )


async def test_an_unset_variable_says_which_and_what_to_put_in_it() -> None:
    found = await collect(None)
    assert found.problem is not None
    assert found.problem.startswith(f"{ENV} is not set: set it in the bot's environment")
    assert found.statements_run == 0


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (f"host=127.0.0.1 password={PASSWORD} nonsense", f"{ENV} is not a DSN PostgreSQL can read"),
        (
            f"postgresql://nobody_here:{PASSWORD}@127.0.0.1:{{port}}/shop",
            f"the database in {ENV} refused the bot's login",
        ),
        (
            f"postgresql://postgres:{PASSWORD}@127.0.0.1:{{port}}/not_a_db",
            f"the database named in {ENV} does not exist: fix the database name in {ENV}",
        ),
        (
            f"postgresql://postgres:{PASSWORD}@127.0.0.1:{{closed}}/shop",
            f"cannot connect to the database in {ENV}",
        ),
    ],
    ids=["bad-dsn", "login", "database", "refused"],
)
async def test_connection_problems_name_the_variable_never_the_dsn(
    cluster: Cluster, dsn: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    dsn = dsn.replace("{port}", str(cluster.port)).replace("{closed}", str(free_port()))
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        found = await collect(dsn)
    assert found.problem is not None
    assert found.problem.startswith(expected), found.problem
    everything = found.model_dump_json() + caplog.text + repr(logs)
    assert PASSWORD not in everything
    assert dsn not in everything


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # kept open, never written to

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()


async def test_a_server_that_never_answers_costs_the_connect_timeout_only(
    silent_server: int,
) -> None:
    started = time.monotonic()
    found = await collect(f"postgresql://postgres:{PASSWORD}@127.0.0.1:{silent_server}/shop")
    assert found.problem == (
        f"the database in {ENV} did not answer in time: check its host and port and any "
        "firewall between the bot and the server"
    )
    assert time.monotonic() - started < Limits().connect_timeout_s + 1.5


async def test_the_whole_collection_is_bounded_by_its_deadline(cluster: Cluster) -> None:
    started = time.monotonic()
    found = await collect(cluster.dsn(), limits=Limits(deadline_s=0.2))
    assert found.problem is not None
    assert found.problem.startswith("the database evidence took longer than 0.2 s")
    assert time.monotonic() - started < 1.0


async def test_a_table_locked_by_a_migration_costs_the_lock_timeout_not_the_triage(
    cluster: Cluster,
) -> None:
    await cluster.sql(
        "CREATE TABLE IF NOT EXISTS migrating AS SELECT * FROM orders LIMIT 1000;"
        f"GRANT SELECT ON migrating TO {SERVICE_ROLE};"
    )
    config = DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE)
    evidence = ServiceEvidence(config, cluster.secret())
    migration = await cluster.connect("postgres", "migration")
    async with migration, await cluster.connect() as service:
        task = asyncio.create_task(evidence.collect(window_s=600))
        for customer in ("customer-1", "customer-2"):  # while the bot samples
            await asyncio.sleep(0.1)
            await service.execute("SELECT id FROM migrating WHERE customer = %s", [customer])
        await migration.execute(b"BEGIN; LOCK TABLE migrating IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        found = await task
        elapsed = time.monotonic() - started
        await migration.execute(b"ROLLBACK")
        await evidence.close()
    assert found.problem is None
    assert any("lock_timeout" in note for note in found.notes), found.notes
    assert elapsed < 1.5


async def test_the_connection_cap_is_reported_as_busy_not_as_a_dead_database(
    cluster: Cluster,
) -> None:
    from bot.sources.postgres.session import Database

    limits = Limits(max_connections=1, wait_for_connection_s=0.3)
    database = Database(cluster.secret(), ENV, limits)
    evidence = ServiceEvidence(DatabaseConfig(dsn_env=ENV), cluster.secret(), limits=limits)
    evidence._database = database  # both triages share the one-connection cap
    try:
        async with database.session():
            found = await evidence.collect(window_s=600)
    finally:
        await database.close()
    assert found.problem == (
        "the bot already holds its cap of 1 connection(s) to this database for other triages "
        "of the service: try again in a moment"
    )
