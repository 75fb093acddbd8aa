"""SQL text from the database is shown only without literals and comments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sources.postgres.sqltext import (
    is_plannable_select,
    parameter_count,
    printable,
    quote_ident,
    shown,
)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE email = 'ann@example.com'", "SELECT * FROM t WHERE email = ?"),
        ("select E'it\\'s', 'it''s', x'ff', $$body$$, $q$ x $q$", "select ?, ?, ?, ?, ?"),
        ("SELECT 42, 4.2e3, t1.c2 FROM t1 /* user 7 */ -- note", "SELECT ?, ?, t1.c2 FROM t1"),
        ("SELECT $1::int  ,\n\t$2", "SELECT $1::int , $2"),
        ("UPDATE t SET a = 'never closed", "UPDATE t SET a ="),
    ],
)
def test_shown_text_has_no_literals_or_comments(sql: str, expected: str) -> None:
    assert shown(sql) == expected


def test_shown_text_is_cut_to_its_limit() -> None:
    text = shown("SELECT " + ", ".join(f"column_{i}" for i in range(100)), limit=40)
    assert len(text) == 40
    assert text.endswith("…")


@given(st.text(max_size=30).filter(lambda s: "\\" not in s and "*/" not in s))
def test_no_quoted_value_ever_survives(text: str) -> None:
    secret = "zq" + text  # "zq" appears nowhere else in these statements
    quoted = secret.replace("'", "''")
    for sql in (
        f"SELECT * FROM t WHERE a = '{quoted}' AND b = 1",
        f"SELECT * FROM t WHERE a = E'{quoted}'",
        f"SELECT $tag${secret}$tag$",
        f"/* {secret} */ SELECT 1",
    ):
        assert "zq" not in shown(sql)


@pytest.mark.parametrize(
    ("sql", "plannable"),
    [
        ("SELECT id FROM orders WHERE id = $1", True),
        ("WITH r AS (SELECT 1) SELECT * FROM r", True),
        ("  select 1;  ", True),
        ("SELECT id INTO copy FROM orders", False),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", False),
        ("SELECT 1; DROP TABLE orders", False),
        ("UPDATE orders SET total = 0", False),
        ("EXPLAIN SELECT 1", False),
        ("SELECT 'unterminated", False),
    ],
)
def test_only_single_read_only_statements_are_planned(sql: str, plannable: bool) -> None:
    assert is_plannable_select(sql) is plannable


def test_parameter_count_is_the_highest_placeholder() -> None:
    assert parameter_count("SELECT $2, '$9', $10") == 10
    assert parameter_count("SELECT 1") == 0


def test_identifiers_are_quoted_only_when_needed() -> None:
    assert quote_ident("orders") == "orders"
    assert quote_ident("Orders") == '"Orders"'
    assert quote_ident("order") == '"order"'
    assert quote_ident('we"ird') == '"we""ird"'


def test_control_characters_never_reach_a_terminal() -> None:
    assert shown("SELECT 1\x1b[2J FROM t\x07") == "SELECT ? [? FROM t"
    assert printable("app\x1b]0;owned\x07name") == "app?]0;owned?name"
    assert len(printable("x" * 200)) == 63
