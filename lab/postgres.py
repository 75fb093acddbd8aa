"""A private PostgreSQL cluster for one lab run, with `pg_stat_statements` and the shop's data.

    async with lab_database(roles=["svc_1a2b3c4d"]) as db:
        db.libpq_env("svc_1a2b3c4d")     # PGHOST, PGPORT, PGUSER, PGDATABASE for that service
        db.dsn(BOT_ROLE)                 # what the bot reads evidence with

`initdb` makes a cluster in a temporary directory on a free port, started with
`shared_preload_libraries = pg_stat_statements` (which the shared server on 5432 may lack).
The database gets `lab/node/schema.sql` (half a million orders, made by one
`generate_series` statement), a login role per service (so `pg_stat_statements` can tell the
services' statements apart) and `triage_bot`, a monitoring role holding only `pg_monitor` and
`pg_read_all_data`: the least privilege the bot documents. Everything is removed on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.procs import LabProcessError, free_port, run_command

HOST = "127.0.0.1"
SUPERUSER = "postgres"
DATABASE = "shop"
BOT_ROLE = "triage_bot"
SCHEMA_SQL = Path(__file__).parent / "node" / "schema.sql"
COMMAND_TIMEOUT_S = 60.0
# pg_stat_statements for the evidence; no parallel workers so a lab fault's scans cost one
# core at most on a small shared machine.
SERVER_SETTINGS = (
    "shared_preload_libraries=pg_stat_statements",
    "max_parallel_workers_per_gather=0",
    "fsync=off",
    "max_connections=200",
)


@dataclass(frozen=True)
class LabDatabase:
    host: str
    port: int
    user: str
    database: str
    roles: tuple[str, ...] = ()

    def libpq_env(self, role: str | None = None) -> dict[str, str]:
        """The libpq variables `pg` (and psql) read to reach this database as `role`."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": role or self.user,
            "PGDATABASE": self.database,
        }

    def dsn(self, role: str | None = None) -> str:
        return f"postgresql://{role or self.user}@{self.host}:{self.port}/{self.database}"


def pg_tool(name: str, bin_dir: Path | None = None) -> str:
    """A PostgreSQL server tool: from `bin_dir` when given, else on the PATH, else where Debian
    keeps it, else a clear error."""
    if bin_dir is not None:
        return str(bin_dir / name)
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
        None,
    )
    if found is None:
        raise LabProcessError(
            f"`{name}` is not installed (the lab runs a private PostgreSQL cluster); "
            "install it with: apt-get install -y postgresql postgresql-contrib"
        )
    return found


async def psql(port: int, sql: str, database: str = DATABASE, *, user: str = SUPERUSER) -> str:
    argv = ["psql", "-h", HOST, "-p", str(port), "-U", user, "-d", database]
    argv += ["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-w", "-c", sql]
    return await run_command(argv, timeout_s=COMMAND_TIMEOUT_S)


def _as_cluster_owner(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the Debian `postgres` account owns the cluster.
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return argv


@contextlib.asynccontextmanager
async def private_cluster(
    settings: Sequence[str] = SERVER_SETTINGS, bin_dir: Path | None = None
) -> AsyncIterator[int]:
    """A started cluster in a temporary directory, of the server in `bin_dir` (else the
    installed one); yields its port, removes it on exit."""
    root = Path(tempfile.mkdtemp(prefix="lab-pg-"))
    data_dir = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, user=SUPERUSER)
    pg_ctl = [pg_tool("pg_ctl", bin_dir), "-D", str(data_dir)]
    try:
        # --no-sync: a throwaway cluster need not wait for the disk (it saves seconds).
        initdb = [pg_tool("initdb", bin_dir), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust"]
        initdb += ["--no-sync", "-E", "UTF8"]
        await run_command(_as_cluster_owner(initdb), timeout_s=COMMAND_TIMEOUT_S)
        flags = [f"-p {port} -k {root} -c listen_addresses={HOST}"]
        options = " ".join(flags + [f"-c {setting}" for setting in settings])
        start = [*pg_ctl, "-o", options, "-l", str(root / "postgres.log"), "-w", "start"]
        await run_command(_as_cluster_owner(start), timeout_s=COMMAND_TIMEOUT_S)
        try:
            yield port
        finally:
            stop = [*pg_ctl, "-m", "immediate", "-w", "stop"]
            await run_command(_as_cluster_owner(stop), timeout_s=COMMAND_TIMEOUT_S)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _role_sql(role: str) -> str:
    quoted = '"' + role.replace('"', '""') + '"'
    return (
        f"CREATE ROLE {quoted} LOGIN; "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}; "
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted};"
    )


async def prepare_database(port: int, roles: Sequence[str]) -> None:
    """The shop's schema and data, the service roles and the bot's monitoring role."""
    await psql(port, f"CREATE DATABASE {DATABASE}", database="postgres")
    await psql(port, "CREATE EXTENSION pg_stat_statements")
    schema = await _read_text(SCHEMA_SQL)
    await psql(port, schema)
    # Vacuum the freshly loaded tables now, so autovacuum does not do it (and take CPU from
    # the services) in the middle of a scenario.
    await psql(port, "VACUUM customers, orders, inventory")
    grants = "".join(_role_sql(role) for role in roles)
    bot = f"CREATE ROLE {BOT_ROLE} LOGIN; GRANT pg_monitor, pg_read_all_data TO {BOT_ROLE};"
    await psql(port, grants + bot + "SELECT pg_stat_statements_reset();")


async def _read_text(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, encoding="utf-8")


def role_for(job: str) -> str:
    """A service's database role (and application name): neutral, so neither the bot nor
    its evidence can read the injected fault off a name."""
    return "svc_" + hashlib.sha256(job.encode()).hexdigest()[:10]


@contextlib.asynccontextmanager
async def lab_database(roles: Sequence[str] = ()) -> AsyncIterator[LabDatabase]:
    """Yield the prepared database of a fresh private cluster; all of it is removed on exit."""
    async with private_cluster() as port:
        await prepare_database(port, roles)
        yield LabDatabase(HOST, port, SUPERUSER, DATABASE, tuple(roles))
