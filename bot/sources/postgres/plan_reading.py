"""Reading `EXPLAIN (FORMAT JSON, VERBOSE)` output: sequential scans that filter, and on what.

    for scan in filtered_scans(plan_json):
        columns = filtered_columns(scan, table_columns)     # ("customer_email",)
        index_statement(scan.schema_name, scan.table, columns)
        # 'CREATE INDEX CONCURRENTLY ON public.orders (customer_email);'

Pure functions over the parsed JSON, so recorded plans test them without a server. A scan's
filter text may quote constants; it stays in this module and never reaches a report: only
the names of real columns of the scanned table come out of it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.sources.postgres.sqltext import Token, quote_ident, tokens

MAX_INDEX_COLUMNS = 3
_SCAN_NODES = {"Seq Scan"}  # a parallel scan is a Seq Scan with "Parallel Aware": true


@dataclass(frozen=True)
class FilteredScan:
    schema_name: str
    table: str
    alias: str
    filter_text: str


def filtered_scans(explain: Any) -> list[FilteredScan]:
    """Every sequential scan with a filter, anywhere in the plan (sub-plans included)."""
    found: list[FilteredScan] = []
    for node in _nodes(explain):
        filter_text = node.get("Filter")
        table = node.get("Relation Name")
        if node.get("Node Type") in _SCAN_NODES and isinstance(filter_text, str) and table:
            found.append(
                FilteredScan(
                    schema_name=str(node.get("Schema") or "public"),
                    table=str(table),
                    alias=str(node.get("Alias") or table),
                    filter_text=filter_text,
                )
            )
    return found


def _nodes(explain: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(explain, list):
        for item in explain:
            yield from _nodes(item)
    elif isinstance(explain, Mapping):
        if "Node Type" in explain:
            yield explain
        for key in ("Plan", "Plans"):
            if key in explain:
                yield from _nodes(explain[key])


def filtered_columns(scan: FilteredScan, columns: Collection[str]) -> tuple[str, ...]:
    """The table's columns the filter tests, those compared with `=` first, at most three."""
    words = [t for t in tokens(scan.filter_text) if t.kind not in {"space", "comment"}]
    equal: list[str] = []
    other: list[str] = []
    for index, name in _column_refs(words, scan, columns):
        target = equal if _compared_for_equality(words, index) else other
        if name not in equal and name not in other:
            target.append(name)
    return tuple([*equal, *other][:MAX_INDEX_COLUMNS])


def _name(token: Token) -> str:
    return token.text[1:-1].replace('""', '"') if token.kind == "ident" else token.text


def _column_refs(
    words: Sequence[Token], scan: FilteredScan, columns: Collection[str]
) -> Iterator[tuple[int, str]]:
    """(index of the column's token, column name) for each reference to the scanned table."""
    qualifiers = {scan.alias, scan.table}
    for index, token in enumerate(words):
        if token.kind not in {"word", "ident"} or _name(token) not in columns:
            continue
        qualified = index >= 2 and words[index - 1].text == "."
        if qualified and _name(words[index - 2]) not in qualifiers:
            continue
        if index + 1 < len(words) and words[index + 1].text in {".", "("}:
            continue  # a qualifier or a function name, not a column
        yield index, _name(token)


def _compared_for_equality(words: Sequence[Token], index: int) -> bool:
    """Whether the operator after the column (past closing parentheses and casts) is `=`."""
    position = index + 1
    while position < len(words):
        text = words[position].text
        if text == ")":
            position += 1
        elif text == ":" and position + 1 < len(words) and words[position + 1].text == ":":
            position += 2
            while position < len(words) and words[position].kind in {"word", "ident"}:
                position += 1  # type names, possibly several words: character varying
        else:
            break
    if position >= len(words) or words[position].text != "=":
        return False
    following = words[position + 1].text if position + 1 < len(words) else ""
    return following not in {"=", ">"}


def index_statement(schema_name: str, table: str, columns: Sequence[str]) -> str:
    names = ", ".join(quote_ident(column) for column in columns)
    return (
        f"CREATE INDEX CONCURRENTLY ON {quote_ident(schema_name)}.{quote_ident(table)} ({names});"
    )
