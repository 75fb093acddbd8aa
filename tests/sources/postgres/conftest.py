"""A private PostgreSQL 13+ cluster with pg_stat_statements, shared by this package's tests.

It carries the lab's schema (half a million orders) in database `shop`, a service role
`svc_app` and the bot's least-privilege role `triage_bot` (pg_monitor, pg_read_all_data).
Tests add what else they need under names of their own.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from pydantic import SecretStr

from lab.postgres import BOT_ROLE, DATABASE, HOST, prepare_database, private_cluster, psql

SERVICE_ROLE = "svc_app"


def _initdb_available() -> bool:
    return bool(shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


@dataclass(frozen=True)
class Cluster:
    port: int

    def dsn(self, role: str = BOT_ROLE, database: str = DATABASE, password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{role}{secret}@{HOST}:{self.port}/{database}"

    def secret(self, role: str = BOT_ROLE, database: str = DATABASE) -> SecretStr:
        return SecretStr(self.dsn(role, database))

    async def sql(self, statement: str, database: str = DATABASE) -> str:
        return await psql(self.port, statement, database)

    async def connect(
        self, role: str = SERVICE_ROLE, application_name: str = SERVICE_ROLE
    ) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            self.dsn(role), autocommit=True, application_name=application_name
        )

    async def new_role(self, *grants: str) -> str:
        role = f"r_{uuid.uuid4().hex[:10]}"
        statements = [f"CREATE ROLE {role} LOGIN"] + [f"GRANT {g} TO {role}" for g in grants]
        await self.sql("; ".join(statements))
        return role


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def cluster() -> AsyncIterator[Cluster]:
    if not _initdb_available():
        pytest.skip("PostgreSQL server tools (initdb) are not installed")
    async with private_cluster() as port:
        await prepare_database(port, roles=[SERVICE_ROLE])
        yield Cluster(port)
