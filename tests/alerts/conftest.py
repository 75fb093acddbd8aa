"""Fixtures for the alert webhook tests: example payloads, a recording sink and a live server."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.alerts.http import add_alert_routes
from bot.alerts.model import AlertBatch
from bot.alerts.sink import AcceptResult
from bot.alerts.sources import Parser
from bot.http.middleware import count_requests
from bot.store.base import StoreUnavailable

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "alert-token-5c1e0b7f9d2a4e68"
GRAFANA_SECRET = "grafana-hmac-secret-0d9a7c41"


def load_payload(source: str) -> Any:
    return json.loads((PAYLOADS / f"{source}.json").read_text())


def example(source: str) -> Any:
    """A fresh copy of the example payload, safe to mutate."""
    return copy.deepcopy(load_payload(source))


class RecordingSink:
    """Keeps batches in memory and counts repeated deliveries by dedupe key, like the real one."""

    def __init__(self) -> None:
        self.batches: list[AlertBatch] = []
        self.seen: set[str] = set()
        self.down = False

    async def accept(self, batch: AlertBatch) -> AcceptResult:
        if self.down:
            raise StoreUnavailable("connection refused")
        self.batches.append(batch)
        fresh = {alert.dedupe_key for alert in batch.alerts} - self.seen
        self.seen |= fresh
        return AcceptResult(accepted=len(fresh), duplicates=len(batch.alerts) - len(fresh))


ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def make_client(
    sink: RecordingSink,
) -> AsyncIterator[ClientFactory]:
    """Start the alert routes on 127.0.0.1 (a free port) and return a client for them."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(
        *,
        grafana_secret: str | None = None,
        sources: Mapping[str, Parser] | None = None,
        token: str | Sequence[str] = TOKEN,
        source_tokens: Mapping[str, Sequence[str]] | None = None,
        body_timeout: float = 30.0,
    ) -> TestClient[web.Request, web.Application]:
        app = web.Application(middlewares=[count_requests])
        add_alert_routes(
            app,
            token=token,
            source_tokens=source_tokens,
            sink=sink,
            grafana_secret=grafana_secret,
            sources=sources,
            body_timeout=body_timeout,
        )
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
