"""A PostgreSQL database for one lab run.

Reuses a server on 127.0.0.1:5432 when it accepts the `postgres` user without a password:
a uniquely named database is created there and dropped afterwards. Otherwise a private
cluster is initialised in a temporary directory on a free port and removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from lab.procs import LabProcessError, free_port, run_command

SHARED_HOST = "127.0.0.1"
SHARED_PORT = 5432
SUPERUSER = "postgres"
COMMAND_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LabDatabase:
    host: str
    port: int
    user: str
    database: str
    private_cluster: bool

    def libpq_env(self) -> dict[str, str]:
        """The libpq variables `pg` (and psql) read to reach this database."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.database,
        }


async def _psql(host: str, port: int, sql: str, database: str = "postgres") -> str:
    argv = ["psql", "-h", host, "-p", str(port), "-U", SUPERUSER, "-d", database]
    argv += ["-v", "ON_ERROR_STOP=1", "-X", "-q", "-w", "-c", sql]
    return await run_command(argv, timeout_s=COMMAND_TIMEOUT_S)


async def _shared_server_usable() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(SHARED_HOST, SHARED_PORT), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    try:
        await _psql(SHARED_HOST, SHARED_PORT, "SELECT 1")
    except LabProcessError:
        return False
    return True


@contextlib.asynccontextmanager
async def _database_on(host: str, port: int, *, private: bool) -> AsyncIterator[LabDatabase]:
    name = f"lab_{uuid.uuid4().hex[:12]}"
    await _psql(host, port, f'CREATE DATABASE "{name}"')
    try:
        yield LabDatabase(host, port, SUPERUSER, name, private_cluster=private)
    finally:
        await _psql(host, port, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_tool(name: str) -> str:
    """A PostgreSQL server tool: on the PATH, else where Debian keeps it, else a clear error."""
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
        None,
    )
    if found is None:
        raise LabProcessError(
            f"no PostgreSQL answers on {SHARED_HOST}:{SHARED_PORT} and `{name}` is not installed; "
            "install it with: apt-get install -y postgresql"
        )
    return found


def _as_cluster_owner(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the Debian `postgres` account owns the cluster.
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return argv


@contextlib.asynccontextmanager
async def _private_cluster() -> AsyncIterator[tuple[str, int]]:
    root = Path(tempfile.mkdtemp(prefix="lab-pg-"))
    data_dir = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, user=SUPERUSER)
    pg_ctl = [pg_tool("pg_ctl"), "-D", str(data_dir)]
    try:
        initdb = [
            pg_tool("initdb"),
            "-D",
            str(data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
        ]
        await run_command(_as_cluster_owner(initdb), timeout_s=COMMAND_TIMEOUT_S)
        options = f"-p {port} -k {root} -c listen_addresses={SHARED_HOST} -c fsync=off"
        start = [*pg_ctl, "-o", options, "-l", str(root / "postgres.log"), "-w", "start"]
        await run_command(_as_cluster_owner(start), timeout_s=COMMAND_TIMEOUT_S)
        try:
            yield SHARED_HOST, port
        finally:
            stop = [*pg_ctl, "-m", "immediate", "-w", "stop"]
            await run_command(_as_cluster_owner(stop), timeout_s=COMMAND_TIMEOUT_S)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.asynccontextmanager
async def lab_database(*, force_private: bool = False) -> AsyncIterator[LabDatabase]:
    """Yield a fresh, empty database; everything created for it is removed on exit."""
    if not force_private and await _shared_server_usable():
        async with _database_on(SHARED_HOST, SHARED_PORT, private=False) as database:
            yield database
        return
    async with _private_cluster() as (host, port), _database_on(host, port, private=True) as db:
        yield db
