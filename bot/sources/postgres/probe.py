"""The first statement of every evidence run: server version, the bot's role and what it may see.

    probe = await read_probe(session, role="checkout_app")   # or raises a DatabaseProblem

Everything the later statements depend on is checked here, so a missing extension or grant
is reported by name before anything else is attempted.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sources.postgres.problems import (
    DatabaseProblem,
    Where,
    extension_missing,
    monitor_grant_missing,
    unsupported_version,
)
from bot.sources.postgres.session import Session
from bot.sources.postgres.sqltext import quote_ident

OLDEST_VERSION = 130000
_PROBE = """/* triage-bot */
SELECT current_setting('server_version_num')::int AS version,
    current_user::text AS user_name, current_database()::text AS database,
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats,
    (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements') AS statements_schema,
    (SELECT oid::int8 FROM pg_roles WHERE rolname = %(role)s) AS role_oid"""


@dataclass(frozen=True)
class Probe:
    version: int
    user_name: str
    database: str
    statements_schema: str
    role_oid: int | None


async def read_probe(session: Session, role: str | None) -> Probe:
    async with session.reading():
        rows = await session.rows(_PROBE, {"role": role})
    row = rows[0]
    where = Where(env="", user=row["user_name"], database=row["database"])
    if row["version"] < OLDEST_VERSION:
        raise unsupported_version(row["version"])
    if not row["reads_all_stats"]:
        raise monitor_grant_missing(where)
    if row["statements_schema"] is None:
        raise extension_missing(where)
    if role is not None and row["role_oid"] is None:
        raise DatabaseProblem(
            "role_missing",
            f"role {quote_ident(role)} (the catalog's database.role) does not exist in "
            f"database {row['database']}: fix the role name in the service catalog",
        )
    return Probe(
        version=row["version"],
        user_name=row["user_name"],
        database=row["database"],
        statements_schema=row["statements_schema"],
        role_oid=row["role_oid"],
    )
