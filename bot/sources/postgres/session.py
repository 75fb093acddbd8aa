"""Sessions on a service's database: capped, read-only and time-limited, statement by statement.

    database = Database(dsn, env="CHECKOUT_DATABASE_URL")
    async with database.session() as session, session.reading():
        rows = await session.rows(PROBE)
    await database.close()

The driver is psycopg 3 (typed, reads every DSN form libpq reads, raises one exception class
per SQLSTATE) with psycopg_pool's null pool: at most `max_connections` sessions per service,
each opened for one triage and closed after it. Nothing stays connected to a database between
incidents, and a failed connection raises its real reason at once instead of a pool timeout.

Every statement runs inside `reading()`: a `BEGIN READ ONLY` transaction whose first statement
sets `statement_timeout` and `lock_timeout` for that transaction only (which holds behind
transaction-pooling proxies too), rolled back at the end whatever happened.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncNullConnectionPool, PoolTimeout
from pydantic import SecretStr

from bot.sources.postgres.problems import all_connections_busy, dsn_invalid
from bot.sources.postgres.sqltext import OWN_MARKER

APPLICATION_NAME = "triage-bot"
Statement = str | bytes | sql.SQL | sql.Composed
Row = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """How long and how much the bot may take from a service's database."""

    connect_timeout_s: int = 2  # libpq's smallest useful value
    statement_timeout_ms: int = 500
    lock_timeout_ms: int = 100
    max_connections: int = 2
    wait_for_connection_s: float = 2.0
    deadline_s: float = 4.0  # all of one triage's database evidence


class Database:
    """One service's database; see the module docstring."""

    def __init__(self, dsn: SecretStr, env: str, limits: Limits | None = None) -> None:
        self.env = env
        self.limits = limits or Limits()
        try:
            conninfo_to_dict(dsn.get_secret_value())
        except psycopg.ProgrammingError:
            raise dsn_invalid(env) from None
        self._pool: AsyncNullConnectionPool[AsyncConnection[DictRow]] = AsyncNullConnectionPool(
            dsn.get_secret_value(),
            connection_class=AsyncConnection[DictRow],
            kwargs={
                "application_name": APPLICATION_NAME,
                "connect_timeout": self.limits.connect_timeout_s,
                "prepare_threshold": None,  # no server-side statements left behind
                "row_factory": dict_row,
            },
            configure=_read_only,
            min_size=0,
            max_size=self.limits.max_connections,
            timeout=self.limits.wait_for_connection_s,
            name=f"triage-{env.lower()}",
            open=False,
        )
        self._opened = False
        self._lent = 0

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        if not self._opened:
            await self._pool.open()
            self._opened = True
        busy = self._lent >= self.limits.max_connections
        try:
            connection = await self._pool.getconn()
        except PoolTimeout:
            # The pool says the same for a full cap and for a connect timeout; tell them apart.
            if busy:
                raise all_connections_busy(self.limits.max_connections) from None
            raise psycopg.errors.ConnectionTimeout() from None
        self._lent += 1
        try:
            async with connection:
                yield Session(connection, self.limits)
        finally:
            self._lent -= 1
            await self._pool.putconn(connection)

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False


async def _read_only(connection: AsyncConnection[DictRow]) -> None:
    await connection.set_read_only(True)


class Session:
    """One connection, lent for one triage; counts the statements it sends."""

    def __init__(self, connection: AsyncConnection[DictRow], limits: Limits) -> None:
        self._connection = connection
        self._limits = limits
        self._in_transaction = False
        self.statements = 0

    @contextlib.asynccontextmanager
    async def reading(self, settings: Mapping[str, str] | None = None) -> AsyncIterator[Session]:
        """A read-only transaction with the bot's time limits and any extra `settings`."""
        values = {
            "statement_timeout": str(self._limits.statement_timeout_ms),
            "lock_timeout": str(self._limits.lock_timeout_ms),
            **(settings or {}),
        }
        calls = ", ".join("set_config(%s, %s, true)" for _ in values)
        params = [part for pair in values.items() for part in pair]
        async with self._connection.transaction(force_rollback=True):
            self._in_transaction = True
            try:
                await self._send(f"{OWN_MARKER} SELECT {calls}", params)
                yield self
            finally:
                self._in_transaction = False

    async def rows(self, query: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one statement inside `reading()` and return its rows as dicts."""
        if not self._in_transaction:
            raise RuntimeError("database statements run only inside Session.reading()")
        cursor = await self._send(query, params)
        return list(await cursor.fetchall()) if cursor.description else []

    async def _send(self, query: Statement, params: Any) -> psycopg.AsyncCursor[DictRow]:
        self.statements += 1
        return await self._connection.execute(query, params)
