"""New Relic specifics: NRQL by variable, literal escaping, NerdGraph's HTTP-200 errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm import ApmTarget, ApmUnavailable
from bot.sources.apm.newrelic import (
    DEFAULT_NEWRELIC_URL,
    EU_NEWRELIC_URL,
    NewRelicBackend,
    nrql_string,
)
from tests.fakes.newrelic import FakeNewRelic

ACCOUNT = 7654321
STATS = [EndpointStat(name="GET /cart", p95=0.3, p99=0.9, rate=4.0, error_rate=0.5)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeNewRelic]:
    server = FakeNewRelic(accounts=(ACCOUNT,))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def backend_for(fake: FakeNewRelic, session: aiohttp.ClientSession) -> NewRelicBackend:
    return NewRelicBackend(
        session=session,
        api_key=SecretStr(fake.api_key),
        base_url=fake.base_url + "/graphql",
        timeout_seconds=2.0,
    )


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        ("Checkout", "'Checkout'"),
        ("Bob's shop", "'Bob\\'s shop'"),
        ("back\\slash", "'back\\\\slash'"),
        ("x' OR appName LIKE '%", "'x\\' OR appName LIKE \\'%'"),
    ],
)
def test_nrql_string_literals_are_escaped(raw: str, literal: str) -> None:
    assert nrql_string(raw) == literal


@pytest.mark.parametrize("app_name", ["Bob's \\ shop", "x' OR appName LIKE '%"])
async def test_awkward_app_names_reach_new_relic_intact(
    fake: FakeNewRelic, session: aiohttp.ClientSession, app_name: str
) -> None:
    fake.seed_endpoints(ACCOUNT, app_name, STATS)
    fake.seed_endpoints(ACCOUNT, "someone else", [STATS[0].model_copy(update={"name": "other"})])
    target = ApmTarget(service="shop", app_name=app_name, account_id=ACCOUNT)
    got = await backend_for(fake, session).slowest_endpoints(target, 300)
    assert [s.name for s in got] == ["GET /cart"]
    assert got[0].error_rate == pytest.approx(0.5)


async def test_the_nrql_travels_as_a_variable_never_inside_the_document(
    fake: FakeNewRelic, session: aiohttp.ClientSession
) -> None:
    fake.seed_downstreams(
        ACCOUNT, "Checkout", [DownstreamStat(name="db.internal", p99=0.1, rate=2, error_rate=0)]
    )
    target = ApmTarget(service="Checkout", account_id=ACCOUNT)  # app name falls back to service
    got = await backend_for(fake, session).slowest_downstreams(target, 120, limit=2)
    assert [s.name for s in got] == ["db.internal"]
    [seen] = fake.requests
    assert seen.headers["API-Key"] == fake.api_key
    payload = json.loads(seen.body)
    assert "Checkout" not in payload["query"]
    assert "FROM" not in payload["query"]
    assert payload["variables"]["id"] == ACCOUNT
    assert payload["variables"]["nrql"] == fake.nrql_seen[0]
    assert "SINCE 120 seconds ago" in fake.nrql_seen[0]
    assert "span.kind = 'client'" in fake.nrql_seen[0]


async def test_a_target_without_an_account_is_refused_before_any_request(
    fake: FakeNewRelic, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ApmUnavailable, match="no New Relic account id"):
        await backend_for(fake, session).slowest_endpoints(ApmTarget(service="shop"), 300)
    assert fake.requests == []


async def test_an_account_the_key_cannot_read_is_named(
    fake: FakeNewRelic, session: aiohttp.ClientSession
) -> None:
    target = ApmTarget(service="shop", account_id=ACCOUNT + 1)
    with pytest.raises(ApmUnavailable) as caught:
        await backend_for(fake, session).slowest_endpoints(target, 300)
    assert str(caught.value).startswith(f"New Relic refused access to account {ACCOUNT + 1}: ")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"message": "NRDB query timed out", "extensions": {"errorClass": "TIMEOUT"}},
            "New Relic did not finish the query in time; try a shorter window.",
        ),
        (
            {"message": "Rate limit exceeded for account", "extensions": {}},
            "New Relic is rate-limiting queries; retry in a minute.",
        ),
        (
            {"message": "NRQL Syntax Error:\n unexpected 'FACET'.", "extensions": {}},
            "New Relic could not run the query: NRQL Syntax Error: unexpected 'FACET'.",
        ),
        (
            {"message": "Invalid API key NRAK-FAKE0123456789ABCDEF"},
            "New Relic refused access to account 7654321: check NEWRELIC_API_KEY "
            "(a user key, NRAK-...) and its account access.",
        ),
        (
            {"message": "Key NRAK-FAKE0123456789ABCDEF is odd", "extensions": {"errorClass": "X"}},
            "New Relic could not run the query: Key [redacted] is odd.",
        ),
    ],
)
async def test_graphql_errors_in_a_200_answer_become_one_sentence(
    fake: FakeNewRelic,
    session: aiohttp.ClientSession,
    error: dict[str, object],
    expected: str,
) -> None:
    fake.graphql_error = error
    target = ApmTarget(service="shop", account_id=ACCOUNT)
    with pytest.raises(ApmUnavailable) as caught:
        await backend_for(fake, session).slowest_endpoints(target, 300)
    assert str(caught.value) == expected


def test_us_and_eu_endpoints_differ_only_by_region() -> None:
    assert DEFAULT_NEWRELIC_URL == "https://api.newrelic.com/graphql"
    assert EU_NEWRELIC_URL == "https://api.eu.newrelic.com/graphql"
