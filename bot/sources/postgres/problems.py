"""Why database evidence could not be gathered, as one line naming the problem and its fix.

A problem never quotes the DSN or the server's own error text (which can echo literal values
from a statement); it names the environment variable, the role and the object instead.

    raise problem_from(error, Where(env="CHECKOUT_DATABASE_URL", user="triage_bot"))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import errors as pg_errors

from bot.sources.postgres.sqltext import quote_ident

EXAMPLE_DSN = "postgresql://triage_bot@db-host:5432/checkout"


class DatabaseProblem(Exception):
    """One line for the report: what is wrong and what to do about it."""

    def __init__(self, kind: str, line: str) -> None:
        super().__init__(line)
        self.kind = kind
        self.line = line


@dataclass(frozen=True)
class Where:
    """What a message may name: the DSN's variable, the bot's role, the database."""

    env: str
    user: str | None = None
    database: str | None = None


def dsn_missing(env: str) -> DatabaseProblem:
    return DatabaseProblem(
        "dsn_missing",
        f"{env} is not set: set it in the bot's environment to the service database's DSN, "
        f"e.g. {EXAMPLE_DSN}",
    )


def dsn_invalid(env: str) -> DatabaseProblem:
    return DatabaseProblem(
        "dsn_invalid",
        f"{env} is not a DSN PostgreSQL can read: use {EXAMPLE_DSN} or "
        "'host=db-host dbname=checkout user=triage_bot'",
    )


def unsupported_version(version: int) -> DatabaseProblem:
    return DatabaseProblem(
        "unsupported_version",
        f"PostgreSQL {version // 10000} is older than 13, the oldest this bot reads; "
        "upgrade it, or remove `database` from the service's catalog entry",
    )


def extension_missing(where: Where) -> DatabaseProblem:
    database = f" in database {where.database}" if where.database else ""
    return DatabaseProblem(
        "extension_missing",
        f"pg_stat_statements is not installed{database}: run CREATE EXTENSION "
        "pg_stat_statements (the server also needs shared_preload_libraries = "
        "'pg_stat_statements' and a restart)",
    )


def monitor_grant_missing(where: Where) -> DatabaseProblem:
    role = quote_ident(where.user or "the_bot_role")
    return DatabaseProblem(
        "grant_missing",
        f"role {role} cannot see other roles' statements and sessions: run GRANT pg_monitor "
        f"TO {role}",
    )


def all_connections_busy(cap: int) -> DatabaseProblem:
    return DatabaseProblem(
        "busy",
        f"the bot already holds its cap of {cap} connection(s) to this database for other "
        "triages of the service: try again in a moment",
    )


def deadline_passed(seconds: float) -> DatabaseProblem:
    return DatabaseProblem(
        "timeout",
        f"the database evidence took longer than {seconds:g} s and was abandoned: the "
        "database is slow to answer; the metrics above still stand",
    )


_CONNECT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"password authentication failed|no password supplied|role .* does not exist", "auth"),
    (r"no pg_hba\.conf entry|authentication", "auth"),
    (r"database .* does not exist", "database_missing"),
    (r"too many (clients|connections)|remaining connection slots", "too_many"),
    (r"the database system is (starting|shutting) up|in recovery mode", "starting"),
)


def problem_from(error: BaseException, where: Where) -> DatabaseProblem:
    """The one-line problem for a driver error (the error's own text is never shown)."""
    if isinstance(error, DatabaseProblem):
        return error
    if isinstance(error, pg_errors.InsufficientPrivilege):
        return _permission(error, where)
    for kind, line in _KNOWN:
        if isinstance(error, kind) and (kind is not _NOT_LOADED or _mentions_preload(error)):
            return DatabaseProblem(_KIND_NAMES[kind], line.format(env=where.env))
    if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
        return _connect_problem(error, where)
    if isinstance(error, psycopg.Error):
        code = error.sqlstate or "no SQLSTATE"
        return DatabaseProblem(
            "failed",
            f"the database answered {type(error).__name__} ({code}) while the bot read its "
            "statistics; check the server log at the time of this triage",
        )
    return DatabaseProblem("failed", f"reading the database failed ({type(error).__name__})")


_NOT_LOADED = pg_errors.ObjectNotInPrerequisiteState
_KNOWN: tuple[tuple[type[BaseException], str], ...] = (
    (
        _NOT_LOADED,
        "pg_stat_statements is installed but not loaded: add it to shared_preload_libraries "
        "and restart PostgreSQL",
    ),
    (
        pg_errors.QueryCanceled,
        "a statement ran past the bot's statement_timeout and was cancelled: the database is "
        "overloaded; the metrics above still stand",
    ),
    (
        pg_errors.LockNotAvailable,
        "a statement waited past the bot's lock_timeout: a long transaction or a migration "
        "holds a lock on a table the evidence reads",
    ),
    (
        psycopg.errors.ConnectionTimeout,
        "the database in {env} did not answer in time: check its host and port and any "
        "firewall between the bot and the server",
    ),
)
_KIND_NAMES: dict[type[BaseException], str] = {
    _NOT_LOADED: "extension_not_loaded",
    pg_errors.QueryCanceled: "timeout",
    pg_errors.LockNotAvailable: "timeout",
    psycopg.errors.ConnectionTimeout: "unreachable",
}


def _connect_problem(error: psycopg.OperationalError, where: Where) -> DatabaseProblem:
    text = str(error)
    kind = next((k for pattern, k in _CONNECT_PATTERNS if re.search(pattern, text, re.I)), "")
    env = where.env
    lines = {
        "auth": f"the database in {env} refused the bot's login: check the user and password "
        f"in {env} and the server's pg_hba.conf",
        "database_missing": f"the database named in {env} does not exist: fix the database "
        f"name in {env}",
        "too_many": "the database refuses new connections (no free slots): reserve some for "
        "monitoring (superuser_reserved_connections, or pg_use_reserved_connections on "
        "PostgreSQL 16+)",
        "starting": "the database is starting up, shutting down or in recovery: try again "
        "in a moment",
    }
    line = lines.get(kind) or (
        f"cannot connect to the database in {env}: the connection was refused or the host "
        f"is unknown; check the host and port in {env} and that the server is running"
    )
    return DatabaseProblem(kind or "unreachable", line)


def _mentions_preload(error: BaseException) -> bool:
    return "shared_preload_libraries" in str(error)


_OBJECT = re.compile(r"permission denied for (table|relation|view|schema|function) ([\w.$\"]+)")


def _permission(error: psycopg.Error, where: Where) -> DatabaseProblem:
    role = quote_ident(where.user or "the_bot_role")
    found = _OBJECT.search(str(error))
    if found is None:
        return DatabaseProblem(
            "grant_missing",
            f"role {role} lacks a privilege the evidence needs: run GRANT pg_monitor TO "
            f"{role} and GRANT pg_read_all_data TO {role} (PostgreSQL 14+)",
        )
    kind, name = found.group(1), found.group(2)
    if kind == "schema":
        grant = f"GRANT USAGE ON SCHEMA {name} TO {role}"
    else:
        grant = f"GRANT SELECT ON {name} TO {role}"
    return DatabaseProblem(
        "grant_missing",
        f"role {role} may not read {kind} {name}: run {grant}, or GRANT pg_read_all_data "
        f"TO {role} (PostgreSQL 14+)",
    )
