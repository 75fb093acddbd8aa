"""Reading recorded generic plans (PostgreSQL 15, `EXPLAIN (FORMAT JSON, VERBOSE)`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.sources.postgres.plan_reading import (
    FilteredScan,
    filtered_columns,
    filtered_scans,
    index_statement,
)

PLANS = Path(__file__).parent / "plans"
ORDERS = ("id", "customer_id", "customer", "customer_email", "total", "created_at")
SHIPMENTS = ("id", "order_id", "Carrier", "status", "shipped_at")


def plan(name: str) -> Any:
    return json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))["plan"]


@pytest.mark.parametrize("name", ["seq_scan_filter", "parallel_seq_scan", "lock_rows"], ids=str)
def test_a_filtered_scan_of_orders_names_the_email_column(name: str) -> None:
    [scan] = filtered_scans(plan(name))
    assert (scan.schema_name, scan.table) == ("public", "orders")
    assert filtered_columns(scan, ORDERS) == ("customer_email",)


@pytest.mark.parametrize("name", ["index_scan", "unfiltered_scan"])
def test_index_scans_and_unfiltered_scans_are_not_findings(name: str) -> None:
    assert filtered_scans(plan(name)) == []


def test_equality_columns_come_first_and_quoted_names_survive() -> None:
    [scan] = filtered_scans(plan("cast_and_range"))
    # Filter: shipped_at > $2 AND (status)::text = $1 AND "Carrier" = $3
    assert filtered_columns(scan, SHIPMENTS) == ("status", "Carrier", "shipped_at")
    statement = index_statement(scan.schema_name, scan.table, ("status", "Carrier"))
    assert statement == 'CREATE INDEX CONCURRENTLY ON public.shipments (status, "Carrier");'


def test_the_inner_side_of_a_join_is_found_under_its_alias() -> None:
    [scan] = filtered_scans(plan("join_filtered_inner"))
    assert (scan.table, scan.alias) == ("shipments", "s")
    assert filtered_columns(scan, SHIPMENTS) == ("status",)


def test_scans_inside_sub_plans_are_found_with_their_own_alias() -> None:
    scans = filtered_scans(plan("subquery_in_filter"))
    assert [(s.alias, filtered_columns(s, ORDERS)) for s in scans] == [
        ("orders", ("total",)),
        ("orders_1", ("customer_email",)),
    ]


def test_only_columns_of_the_scanned_table_come_out_of_a_filter() -> None:
    scan = FilteredScan(
        "public",
        "orders",
        "o",
        "((o.customer_email = 'ann@example.com'::text) AND (x.total > lower(o.customer)))",
    )
    # The literal, the other alias's column and the function name never come out.
    assert filtered_columns(scan, ORDERS) == ("customer_email", "customer")


def test_at_most_three_columns_are_suggested() -> None:
    text = "((t.a = $1) AND (t.b = $2) AND (t.c = $3) AND (t.d = $4))"
    scan = FilteredScan("public", "t", "t", text)
    assert filtered_columns(scan, ("a", "b", "c", "d")) == ("a", "b", "c")


def test_comparisons_that_are_not_equality_are_not_mistaken_for_it() -> None:
    text = "((t.a >= $1) AND (t.b <> $2) AND (t.c ~~ $3) AND (t.d = ANY ($4)))"
    scan = FilteredScan("public", "t", "t", text)
    assert filtered_columns(scan, ("a", "b", "c", "d")) == ("d", "a", "b")
