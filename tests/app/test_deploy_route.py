"""POST /events/deploy: authenticated like the alert webhooks, bounded, errors name the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.catalog import parse_catalog
from bot.deploys.http import add_deploy_routes
from bot.deploys.log import DeployLog
from bot.store import MemoryStore

TOKEN = "deploy-test-token-5c1d9e0a"
CATALOG = parse_catalog("services:\n  checkout:\n    selector: {job: checkout}\n", source="t")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Served:
    url: str
    deploys: DeployLog
    store: MemoryStore


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    store = MemoryStore()
    app = web.Application()
    deploys = DeployLog(store)
    add_deploy_routes(app, token=(TOKEN,), deploys=deploys, catalog=CATALOG)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Served(f"http://127.0.0.1:{port}/events/deploy", deploys, store)
    await runner.cleanup()
    await store.close()


async def post(
    url: str, body: object, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=AUTH if headers is None else headers) as answer,
    ):
        return answer.status, await answer.json()


async def test_a_deploy_is_stored_and_read_back_as_a_change(served: Served) -> None:
    event = {
        "service": "checkout",
        "version": "1.5.0",
        "commit": "4f2a9c1d",
        "link": "https://ci.example.com/runs/812",
        "who": "release-bot",
        "at": "2026-11-30T10:02:00Z",
    }
    status, body = await post(served.url, event)
    assert (status, body["service"], body["at"]) == (202, "checkout", 1796032920.0)
    (change,) = await served.deploys.between("checkout", 0, 2e9)
    assert change.kind == "deploy"
    assert change.at == 1796032920.0
    assert (
        change.detail == "checkout 1.5.0 (4f2a9c1d) by release-bot https://ci.example.com/runs/812"
    )


async def test_without_the_token_nothing_is_stored(served: Served) -> None:
    event = {"service": "checkout", "version": "1.5.0"}
    status, body = await post(served.url, event, headers={"Authorization": "Bearer wrong"})
    assert (status, body["field"]) == (401, "Authorization")
    assert await served.deploys.between("checkout", 0, 2e9) == ()


async def test_an_unknown_service_is_not_found_with_the_closest_named(served: Served) -> None:
    status, body = await post(served.url, {"service": "checkot", "version": "1"})
    assert (status, body["field"]) == (404, "service")
    assert "did you mean checkout?" in str(body["error"])


@pytest.mark.parametrize(
    ("event", "field", "words"),
    [
        ({"service": "Checkout!", "version": "1"}, "service", "should match pattern"),
        ({"service": "checkout"}, "version", "Field required"),
        ({"service": "checkout", "version": "1", "link": "javascript:x"}, "link", "match pattern"),
        ({"service": "checkout", "version": "1", "extra": 1}, "extra", "Extra inputs"),
        ({"service": "checkout", "version": "x" * 101}, "version", "at most 100"),
    ],
)
async def test_a_bad_event_names_its_field(
    served: Served, event: dict[str, object], field: str, words: str
) -> None:
    status, body = await post(served.url, event)
    assert status == 400
    assert body["field"] == field
    assert words in str(body["error"])


async def test_a_body_over_the_limit_is_refused(served: Served) -> None:
    status, body = await post(served.url, {"service": "checkout", "version": "v" * 20_000})
    assert status == 413
    assert body["field"]
