"""Which statements plan a normalised statement on each server version, checked on what is sent
(the 15, 16 and 17 servers also plan for real in test_collect.py; 13 and 14 only here)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import pytest

from bot.sources.postgres.plans import NotPlannable, generic_plan
from bot.sources.postgres.session import Session

PLAN = [{"Plan": {"Node Type": "Result"}}]


class RecordingSession:
    """Stands in for `Session`: records each transaction's settings and statements."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions: list[tuple[dict[str, str], list[str]]] = []

    @contextlib.asynccontextmanager
    async def reading(self, settings: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
        self.transactions.append((dict(settings or {}), []))
        yield self

    async def rows(self, query: Any, params: Any = None) -> list[dict[str, Any]]:
        self.statements += 1
        text = query.decode() if isinstance(query, bytes) else str(query)
        self.transactions[-1][1].append(text)
        return [{"QUERY PLAN": PLAN}] if "EXPLAIN" in text else []


STATEMENT = "SELECT id FROM orders WHERE customer_email = $1 AND total > $2;"


async def test_postgresql_16_asks_for_the_generic_plan_directly() -> None:
    session = RecordingSession()
    assert await generic_plan(cast(Session, session), STATEMENT, 160004) == PLAN
    [(settings, sent)] = session.transactions
    assert settings == {}
    assert sent == [
        "/* triage-bot */ EXPLAIN (FORMAT JSON, VERBOSE, GENERIC_PLAN) "
        "SELECT id FROM orders WHERE customer_email = $1 AND total > $2"
    ]


async def test_postgresql_13_to_15_explain_a_prepared_statement_with_nulls() -> None:
    session = RecordingSession()
    assert await generic_plan(cast(Session, session), STATEMENT, 150020) == PLAN
    [(settings, sent)] = session.transactions
    assert settings == {"plan_cache_mode": "force_generic_plan"}
    assert sent == [
        "/* triage-bot */ PREPARE triage_bot_plan_0 AS "
        "SELECT id FROM orders WHERE customer_email = $1 AND total > $2",
        "/* triage-bot */ EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE triage_bot_plan_0(NULL, NULL)",
        "/* triage-bot */ DEALLOCATE triage_bot_plan_0",
    ]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE orders SET total = 0 WHERE id = $1", "SELECT 1; SELECT 2", "EXPLAIN ANALYZE SELECT 1"],
)
async def test_anything_but_one_read_is_never_sent(statement: str) -> None:
    session = RecordingSession()
    with pytest.raises(NotPlannable):
        await generic_plan(cast(Session, session), statement, 150020)
    assert session.transactions == []
