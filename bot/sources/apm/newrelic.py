"""New Relic APM through NerdGraph (`POST /graphql`) running NRQL.

The NRQL travels as a GraphQL variable, so nothing in it can alter the GraphQL document;
string literals inside the NRQL are escaped. Endpoints come from `Transaction` events of web
transactions faceted by `name`; downstreams from the agent's client `Span` events faceted by
`peer.hostname`. Both report `duration` in seconds. Span events are sampled, so a downstream's
call rate is the rate of sampled calls and reads low on busy services.

NerdGraph answers many failures with HTTP 200 and an `errors` array; those become the same
plain sentences as HTTP-level failures. US accounts use `DEFAULT_NEWRELIC_URL`, EU accounts
`EU_NEWRELIC_URL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm._http import (
    Request,
    Vendor,
    fetch_json,
    rate_limited_message,
    seconds_header,
)
from bot.sources.apm.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ApmBackendOptions,
    ApmTarget,
    ApmUnavailable,
    check_query_arguments,
    slowest_first,
)

DEFAULT_NEWRELIC_URL = "https://api.newrelic.com/graphql"
EU_NEWRELIC_URL = "https://api.eu.newrelic.com/graphql"
CREDENTIAL_HINT = "check NEWRELIC_API_KEY (a user key, NRAK-...) and its account access"
# The facet list is cut server-side by the first aggregate; asking for a few more than needed
# keeps the final ordering (by p99) ours.
FACET_HEADROOM = 4
MAX_FACETS = 100

NRQL_DOCUMENT = (
    "query($id: Int!, $nrql: Nrql!) "
    "{ actor { account(id: $id) { nrql(query: $nrql) { results } } } }"
)
_RATE = "calls_per_second"
_ERROR_PERCENT = "error_percent"


def nrql_string(value: str) -> str:
    """An NRQL string literal holding exactly `value`."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def endpoints_nrql(app_name: str, window_seconds: int, limit: int) -> str:
    return (
        "FROM Transaction SELECT percentile(duration, 99, 95), "
        f"rate(count(*), 1 second) AS '{_RATE}', "
        f"percentage(count(*), WHERE error IS true) AS '{_ERROR_PERCENT}' "
        f"WHERE appName = {nrql_string(app_name)} AND transactionType = 'Web' "
        f"FACET name SINCE {window_seconds} seconds ago LIMIT {_facet_limit(limit)}"
    )


def downstreams_nrql(app_name: str, window_seconds: int, limit: int) -> str:
    return (
        "FROM Span SELECT percentile(duration, 99), "
        f"rate(count(*), 1 second) AS '{_RATE}', "
        f"percentage(count(*), WHERE error.class IS NOT NULL) AS '{_ERROR_PERCENT}' "
        f"WHERE appName = {nrql_string(app_name)} AND span.kind = 'client' "
        f"FACET peer.hostname SINCE {window_seconds} seconds ago LIMIT {_facet_limit(limit)}"
    )


def _facet_limit(limit: int) -> int:
    return min(MAX_FACETS, max(limit * FACET_HEADROOM, limit))


class NewRelicBackend:
    """Slowest endpoints and downstreams of an application from New Relic APM data.

    Example::

        backend = NewRelicBackend(session=session, api_key=SecretStr("NRAK-..."))
        await backend.slowest_endpoints(
            ApmTarget(service="checkout", app_name="Checkout", account_id=1234567), 900)
    """

    name = "newrelic"

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_key: SecretStr,
        base_url: str = DEFAULT_NEWRELIC_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._api_key = api_key
        self._url = base_url
        self._timeout_seconds = timeout_seconds
        self._vendor = Vendor(
            name="New Relic",
            credential_hint=CREDENTIAL_HINT,
            secrets=(api_key.get_secret_value(),),
            retry_after=lambda headers: seconds_header(headers, "Retry-After"),
            error_detail=_first_error_message,
        )

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]:
        check_query_arguments(window_seconds, limit)
        account_id, app_name = _identify(service)
        rows = await self._run(account_id, endpoints_nrql(app_name, window_seconds, limit))
        stats = [
            EndpointStat(
                name=_facet(row),
                p95=_percentile(row, 95),
                p99=_percentile(row, 99),
                rate=_number(row.get(_RATE)) or 0.0,
                error_rate=_fraction(row.get(_ERROR_PERCENT)),
            )
            for row in rows
        ]
        return slowest_first(stats, limit)

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]:
        check_query_arguments(window_seconds, limit)
        account_id, app_name = _identify(service)
        rows = await self._run(account_id, downstreams_nrql(app_name, window_seconds, limit))
        stats = [
            DownstreamStat(
                name=_facet(row),
                p99=_percentile(row, 99),
                rate=_number(row.get(_RATE)) or 0.0,
                error_rate=_fraction(row.get(_ERROR_PERCENT)),
            )
            for row in rows
        ]
        return slowest_first(stats, limit)

    async def _run(self, account_id: int, nrql: str) -> list[dict[str, Any]]:
        request = Request(
            method="POST",
            url=self._url,
            headers={"API-Key": self._api_key.get_secret_value(), "Accept": "application/json"},
            payload={"query": NRQL_DOCUMENT, "variables": {"id": account_id, "nrql": nrql}},
        )
        body = await fetch_json(self._session, request, self._vendor, self._timeout_seconds)
        return _results(body, self._vendor, account_id)


def from_options(options: ApmBackendOptions) -> NewRelicBackend:
    """Registry factory: needs the user API key; `base_url` picks the US or EU endpoint."""
    if options.api_key is None:
        raise ApmUnavailable("New Relic is not configured: set NEWRELIC_API_KEY.")
    return NewRelicBackend(
        session=options.session,
        api_key=options.api_key,
        base_url=options.base_url or DEFAULT_NEWRELIC_URL,
        timeout_seconds=options.timeout_seconds,
    )


def _identify(target: ApmTarget) -> tuple[int, str]:
    if target.account_id is None:
        raise ApmUnavailable(
            f"The service {target.service!r} has no New Relic account id in the catalog."
        )
    return target.account_id, target.app_name or target.service


def _results(body: object, vendor: Vendor, account_id: int) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApmUnavailable("New Relic sent an answer in an unexpected shape.")
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        raise _graphql_failure(errors[0], vendor, account_id)
    results = _dig(body, "data", "actor", "account", "nrql", "results")
    if not isinstance(results, list):
        raise ApmUnavailable(f"New Relic returned no results for account {account_id}.")
    return [row for row in results if isinstance(row, dict)]


def _graphql_failure(error: object, vendor: Vendor, account_id: int) -> ApmUnavailable:
    fields: Mapping[str, Any] = error if isinstance(error, dict) else {}
    message = vendor.scrub(str(fields.get("message") or "no reason given"))
    extensions = fields.get("extensions")
    error_class = str(extensions.get("errorClass", "")) if isinstance(extensions, dict) else ""
    lowered = message.lower()
    if error_class == "TIMEOUT" or "timed out" in lowered or "timeout" in lowered:
        return ApmUnavailable("New Relic did not finish the query in time; try a shorter window.")
    if error_class in ("TOO_MANY_REQUESTS", "RATE_LIMITED") or "rate limit" in lowered:
        return ApmUnavailable(rate_limited_message(vendor, None))
    if error_class in ("UNAUTHORIZED", "FORBIDDEN", "ACCESS_DENIED") or "api key" in lowered:
        return ApmUnavailable(
            f"New Relic refused access to account {account_id}: {vendor.credential_hint}."
        )
    return ApmUnavailable(f"New Relic could not run the query: {message}.")


def _dig(node: object, *path: str) -> object:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _facet(row: Mapping[str, Any]) -> str:
    facet = row.get("facet")
    if isinstance(facet, list):
        return ", ".join(str(part) for part in facet)
    return str(facet) if facet is not None else "(unknown)"


def _percentile(row: Mapping[str, Any], percent: int) -> float | None:
    values = row.get("percentile.duration")
    if not isinstance(values, dict):
        return None
    for key, value in values.items():
        try:
            if float(key) == percent:
                return _number(value)
        except ValueError:
            continue
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fraction(percent: object) -> float | None:
    value = _number(percent)
    return None if value is None else min(1.0, max(0.0, value / 100.0))


def _first_error_message(body: object) -> str | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
        return str(message) if message else None
    return None
