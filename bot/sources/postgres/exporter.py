"""pg_stat_statements counters from postgres_exporter's series, over the whole incident window.

postgres_exporter's `stat_statements` collector exports, per `user`, `datname` and `queryid`,
`pg_stat_statements_calls_total`, `pg_stat_statements_seconds_total` and
`pg_stat_statements_rows_total`; with `include_query` also `pg_stat_statements_query_id`
whose `query` label is the (truncated) normalised text. When a service's catalog entry names
the exporter's series (`database.exporter`), the statements are ranked on those counters'
increase over the window, which needs no sampling; the database connection still supplies
full texts, plans and sessions.

    changes = await window_changes(querier, selector, window_s=600, end=time.time())
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from bot.sources.base import MetricsQuerier
from bot.sources.postgres.statements import Change
from bot.sources.promql import Matcher, Selector, matchers_from, rate, sum_by

CALLS = "pg_stat_statements_calls_total"
SECONDS = "pg_stat_statements_seconds_total"
ROWS = "pg_stat_statements_rows_total"
TEXTS = "pg_stat_statements_query_id"


def exporter_matchers(
    exporter: Mapping[str, str], database: str | None, role: str | None
) -> tuple[Matcher, ...]:
    """The catalog's exporter labels, narrowed to the service's database and role."""
    labels = dict(exporter)
    if database is not None:
        labels.setdefault("datname", database)
    if role is not None:
        labels.setdefault("user", role)
    return matchers_from(labels)


async def window_changes(
    querier: MetricsQuerier, matchers: Sequence[Matcher], window_s: int, end: float
) -> list[Change]:
    """Each statement's calls, time and rows over the window, from the counters' increase."""

    async def increase(metric: str) -> dict[int, float]:
        expr = sum_by(rate(Selector(metric, tuple(matchers)), window_s, fn="increase"), ["queryid"])
        samples = await querier.query(str(expr), at=end)
        return {
            int(s.labels["queryid"]): s.value for s in samples if _is_int(s.labels.get("queryid"))
        }

    calls, seconds, rows = await asyncio.gather(increase(CALLS), increase(SECONDS), increase(ROWS))
    changes = [
        Change(queryid, count, seconds.get(queryid, 0.0) * 1000, rows.get(queryid, 0.0))
        for queryid, count in calls.items()
    ]
    return [change for change in changes if change.calls > 0]


async def exported_texts(
    querier: MetricsQuerier, matchers: Sequence[Matcher], queryids: Sequence[int], end: float
) -> dict[int, str]:
    """Texts from `pg_stat_statements_query_id`, when the exporter includes them."""
    if not queryids:
        return {}
    wanted = Matcher.any_of("queryid", [str(queryid) for queryid in queryids])
    selector = Selector(TEXTS, tuple(m for m in matchers if m.name == "datname")).where(wanted)
    samples = await querier.query(str(selector), at=end)
    return {
        int(s.labels["queryid"]): s.labels.get("query", "")
        for s in samples
        if _is_int(s.labels.get("queryid"))
    }


def _is_int(value: str | None) -> bool:
    return value is not None and value.lstrip("-").isdigit()
