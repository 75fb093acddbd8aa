"""`pg_stat_statements`: counters read twice, the difference ranked three ways.

    first = await read_counters(session, target)
    ...                                   # the sample, or the previous triage's reading
    second = await read_counters(session, target)
    changed = deltas(first, second)
    picked = candidates(changed, per_ranking=3)   # most total time, highest mean, most calls
    texts = await read_texts(session, target, [c.queryid for c in picked])

Counters are read with `pg_stat_statements(false)`, which skips the query-text file; texts
are read only for the few statements that made a list. Statements are the service's role's
(when the catalog names one) in the DSN's database, top-level only on PostgreSQL 14+.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from psycopg import sql

from bot.sources.postgres.session import Session
from bot.sources.postgres.sqltext import OWN_MARKER, is_own, keywords

TOPLEVEL_SINCE = 140000  # server_version_num that added the `toplevel` column
_STATEMENT_WORDS = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"}


@dataclass(frozen=True)
class Target:
    """Whose statements to read: the extension's schema, the server version, the role."""

    schema_name: str
    version: int
    role_oid: int | None


@dataclass(frozen=True)
class Counters:
    calls: float
    total_ms: float
    rows: float


@dataclass(frozen=True)
class Change:
    queryid: int
    calls: float
    total_ms: float
    rows: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


def _where(target: Target) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.SQL("dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        sql.SQL("queryid IS NOT NULL"),
    ]
    if target.role_oid is not None:
        parts.append(sql.SQL("userid = {}").format(sql.Literal(target.role_oid)))
    if target.version >= TOPLEVEL_SINCE:
        parts.append(sql.SQL("toplevel"))
    return sql.SQL(" AND ").join(parts)


async def read_counters(session: Session, target: Target) -> dict[int, Counters]:
    query = sql.SQL(
        OWN_MARKER + " SELECT queryid, sum(calls)::float8 AS calls, "
        "sum(total_exec_time)::float8 AS total_ms, sum(rows)::float8 AS rows "
        "FROM {schema}.pg_stat_statements(false) WHERE {where} GROUP BY queryid"
    ).format(schema=sql.Identifier(target.schema_name), where=_where(target))
    rows = await session.rows(query)
    return {
        int(row["queryid"]): Counters(row["calls"], row["total_ms"], row["rows"]) for row in rows
    }


async def read_texts(session: Session, target: Target, queryids: Sequence[int]) -> dict[int, str]:
    """Normalised text per statement (internal: it is shown only through `sqltext.shown`)."""
    if not queryids:
        return {}
    query = sql.SQL(
        OWN_MARKER + " SELECT DISTINCT ON (queryid) queryid, query "
        "FROM {schema}.pg_stat_statements WHERE {where} AND queryid = ANY(%(ids)s::bigint[])"
    ).format(schema=sql.Identifier(target.schema_name), where=_where(target))
    rows = await session.rows(query, {"ids": list(queryids)})
    return {int(row["queryid"]): str(row["query"] or "") for row in rows}


def deltas(first: Mapping[int, Counters], second: Mapping[int, Counters]) -> list[Change]:
    """What each statement did between the readings; a reset or new entry counts in full."""
    changes: list[Change] = []
    for queryid, now in second.items():
        before = first.get(queryid)
        if before is not None and now.calls >= before.calls:
            change = Change(
                queryid,
                now.calls - before.calls,
                now.total_ms - before.total_ms,
                now.rows - before.rows,
            )
        else:
            change = Change(queryid, now.calls, now.total_ms, now.rows)
        if change.calls > 0:
            changes.append(change)
    return changes


def candidates(changes: Iterable[Change], per_ranking: int) -> list[Change]:
    """The union of the top `per_ranking` by total time, by mean time and by calls."""
    changes = list(changes)
    picked: dict[int, Change] = {}
    for key in (_by_total, _by_mean, _by_calls):
        for change in sorted(changes, key=key, reverse=True)[:per_ranking]:
            picked.setdefault(change.queryid, change)
    return sorted(picked.values(), key=_by_total, reverse=True)


def _by_total(change: Change) -> float:
    return change.total_ms


def _by_mean(change: Change) -> float:
    return change.mean_ms


def _by_calls(change: Change) -> float:
    return change.calls


def is_application_statement(text: str) -> bool:
    """A query or DML statement the service sent (not the bot's, not SET, BEGIN or EXPLAIN)."""
    if not text or is_own(text):
        return False
    words = keywords(text)
    return bool(words) and words[0] in _STATEMENT_WORDS
