"""A fake New Relic NerdGraph endpoint (`POST /graphql`) that runs a small subset of NRQL.

It accepts only the documented NRQL-by-variable form
`query($id: Int!, $nrql: Nrql!) { actor { account(id: $id) { nrql(query: $nrql) ... } } }`,
parses `FROM Transaction|Span SELECT ... WHERE a = '...' AND ... FACET x SINCE n seconds ago
LIMIT n`, decodes escaped string literals, orders facets by the first aggregate (descending)
and cuts at LIMIT, as NRDB does. Durations are seconds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.models import DownstreamStat, EndpointStat
from tests.fakes.server import Failure, FakeServer

_HEAD = re.compile(r"^FROM (?P<event>\w+) SELECT ")
_TAIL = re.compile(
    r"^(?P<where>.+?) FACET (?P<facet>[\w.]+) SINCE (?P<since>\d+) seconds ago "
    r"LIMIT (?P<limit>\d+)$"
)
_CONDITION = re.compile(r"(?P<attr>[\w.]+) = '(?P<literal>(?:[^'\\]|\\.)*)'")
_PERCENTILE = re.compile(r"^percentile\(duration, (?P<ps>[\d, ]+)\)(?: AS '(?P<alias>\w+)')?$")
_RATE = re.compile(r"^rate\(count\(\*\), 1 second\)(?: AS '(?P<alias>\w+)')?$")
_PERCENTAGE = re.compile(
    r"^percentage\(count\(\*\), WHERE (?P<cond>.+)\)(?: AS '(?P<alias>\w+)')?$"
)
# What each event type is queried for, and the filter and error condition that selects it.
_SHAPES = {
    "Transaction": ("name", ("transactionType", "Web"), "error IS true"),
    "Span": ("peer.hostname", ("span.kind", "client"), "error.class IS NOT NULL"),
}
Row = dict[str, Any]


class FakeNewRelic(FakeServer):
    """`graphql_error`, when set, is returned as NerdGraph's HTTP-200 `errors` entry."""

    def __init__(
        self, api_key: str = "NRAK-FAKE0123456789ABCDEF", accounts: tuple[int, ...] = ()
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.accounts = set(accounts)  # the accounts this key may read
        self.transactions: dict[tuple[int, str], list[EndpointStat]] = {}
        self.spans: dict[tuple[int, str], list[DownstreamStat]] = {}
        self.graphql_error: dict[str, Any] | None = None
        self.nrql_seen: list[str] = []

    def seed_endpoints(self, account_id: int, app_name: str, stats: list[EndpointStat]) -> None:
        self.accounts.add(account_id)
        self.transactions.setdefault((account_id, app_name), []).extend(stats)

    def seed_downstreams(self, account_id: int, app_name: str, stats: list[DownstreamStat]) -> None:
        self.accounts.add(account_id)
        self.spans.setdefault((account_id, app_name), []).extend(stats)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/graphql", self._graphql)]

    def rate_limited(self) -> web.Response:
        headers = {"Retry-After": str(self.retry_after_seconds)}
        body = {"errors": [{"message": "Too many requests"}]}
        return web.json_response(body, status=429, headers=headers)

    async def _graphql(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        failure = await self.injected_failure()
        if failure is not None:
            return failure
        if self.failure is Failure.REJECT_CREDENTIALS or request.headers.get("API-Key") != (
            self.api_key
        ):
            return web.json_response({"errors": [{"message": "Invalid API key"}]}, status=401)
        if self.graphql_error is not None:
            return _errors(self.graphql_error)
        try:
            account_id, nrql = _document_and_variables(seen.body)
            self.nrql_seen.append(nrql)
            rows = self._run(account_id, nrql)
        except LookupError as denied:
            return _errors({"message": str(denied), "extensions": {"errorClass": "FORBIDDEN"}})
        except ValueError as problem:
            extensions = {"errorClass": "INVALID_INPUT"}
            return _errors({"message": str(problem), "extensions": extensions})
        return web.json_response({"data": {"actor": {"account": {"nrql": {"results": rows}}}}})

    def _run(self, account_id: int, nrql: str) -> list[Row]:
        match = _parse_nrql(nrql)
        event = match["event"]
        if event not in _SHAPES:
            raise ValueError(f"Unknown event type {event!r}")
        facet_attr, (filter_attr, filter_value), error_condition = _SHAPES[event]
        if match["facet"] != facet_attr:
            raise ValueError(f"{event} is faceted by {facet_attr} here")
        where = _conditions(match["where"])
        if where.get(filter_attr) != filter_value or "appName" not in where:
            raise ValueError(f"Expected appName and {filter_attr} = '{filter_value}'")
        if account_id not in self.accounts:
            raise LookupError(f"Account {account_id} is not accessible with this key")
        source = self.transactions if event == "Transaction" else self.spans
        stats = source.get((account_id, where["appName"]), [])
        aggregates = [_aggregate(item, error_condition) for item in _split(match["select"])]
        rows = [_row(stat, facet_attr, aggregates) for stat in stats]
        rows.sort(key=lambda row: _sort_value(row, aggregates[0]), reverse=True)
        return rows[: int(match["limit"])]


def _parse_nrql(nrql: str) -> dict[str, str]:
    """Clauses of the one query shape supported; WHERE inside an aggregate is not a clause."""
    head = _HEAD.match(nrql)
    rest = nrql[head.end() :] if head else ""
    depth, split_at = 0, -1
    for index, char in enumerate(rest):
        depth += (char == "(") - (char == ")")
        if depth == 0 and rest.startswith(" WHERE ", index):
            split_at = index
            break
    tail = _TAIL.match(rest[split_at + len(" WHERE ") :]) if split_at >= 0 else None
    if head is None or tail is None:
        raise ValueError(f"NRQL Syntax Error: cannot parse {nrql!r}")
    return {"event": head["event"], "select": rest[:split_at], **tail.groupdict()}


def _errors(error: dict[str, Any]) -> web.Response:
    error = {**error, "path": ["actor", "account", "nrql"]}
    return web.json_response({"data": {"actor": {"account": {"nrql": None}}}, "errors": [error]})


def _document_and_variables(body: str) -> tuple[int, str]:
    payload = json.loads(body)
    document, variables = payload.get("query", ""), payload.get("variables") or {}
    squashed = " ".join(document.split())
    for required in ("$id: Int!", "$nrql: Nrql!", "account(id: $id)", "nrql(query: $nrql)"):
        if required not in squashed:
            raise ValueError(f"Expected the NRQL as a variable; missing {required!r}")
    account_id, nrql = variables.get("id"), variables.get("nrql")
    if not isinstance(account_id, int) or not isinstance(nrql, str):
        raise ValueError("Variable $id must be an Int and $nrql a string")
    return account_id, nrql


def _conditions(where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for clause in re.split(r" AND (?=[\w.]+ = ')", where):
        match = _CONDITION.fullmatch(clause)
        if match is None:
            raise ValueError(f"NRQL Syntax Error near {clause!r}")
        found[match["attr"]] = re.sub(r"\\(.)", r"\1", match["literal"])
    return found


def _split(select: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in select:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    return [*items, current.strip()]


def _aggregate(item: str, error_condition: str) -> tuple[str, str, tuple[int, ...]]:
    """(kind, result key, percentiles) for one SELECT item."""
    if match := _PERCENTILE.match(item):
        percents = tuple(int(p) for p in match["ps"].split(","))
        return "percentile", match["alias"] or "percentile.duration", percents
    if match := _RATE.match(item):
        return "rate", match["alias"] or "rate.count", ()
    if match := _PERCENTAGE.match(item):
        if match["cond"] != error_condition:
            raise ValueError(f"Unsupported percentage condition {match['cond']!r}")
        return "percentage", match["alias"] or "percentage.count", ()
    raise ValueError(f"Unsupported SELECT item {item!r}")


def _row(
    stat: EndpointStat | DownstreamStat,
    facet_attr: str,
    aggregates: list[tuple[str, str, tuple[int, ...]]],
) -> Row:
    row: Row = {"facet": stat.name, facet_attr: stat.name}
    by_percent = {95: getattr(stat, "p95", None), 99: stat.p99}
    for kind, key, percents in aggregates:
        if kind == "percentile":
            row[key] = {str(p): by_percent.get(p) for p in percents}
        elif kind == "rate":
            row[key] = stat.rate
        else:
            row[key] = None if stat.error_rate is None else stat.error_rate * 100.0
    return row


def _sort_value(row: Row, first: tuple[str, str, tuple[int, ...]]) -> float:
    kind, key, percents = first
    value = row[key][str(percents[0])] if kind == "percentile" else row[key]
    return float(value) if value is not None else float("-inf")
