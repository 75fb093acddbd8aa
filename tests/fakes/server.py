"""The part every fake vendor server shares: lifecycle, failure injection, request log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

# Long enough to outlast any client timeout in the tests, short enough to never wedge a run.
HANG_LIMIT_SECONDS = 30.0


class Failure(StrEnum):
    REJECT_CREDENTIALS = "reject_credentials"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    HANG = "hang"
    NOT_JSON = "not_json"


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str


class FakeServer:
    """Subclasses add routes in `routes()` and call `injected_failure()` first in each handler.

    `server_errors` answers that many requests with HTTP 503 before behaving normally;
    `failure` applies to every request until cleared.
    """

    def __init__(self) -> None:
        self.failure: Failure | None = None
        self.server_errors = 0
        self.retry_after_seconds = 30
        self.requests: list[SeenRequest] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> str:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def record(self, request: web.Request) -> SeenRequest:
        seen = SeenRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=await request.text(),
        )
        self.requests.append(seen)
        return seen

    async def injected_failure(self) -> web.Response | None:
        """The answer a configured failure calls for, or None to answer normally."""
        if self.server_errors > 0:
            self.server_errors -= 1
            return web.json_response({"errors": ["Service Unavailable"]}, status=503)
        if self.failure is Failure.SERVER_ERROR:
            return web.json_response({"errors": ["Internal Server Error"]}, status=500)
        if self.failure is Failure.HANG:
            await asyncio.wait_for(self._release.wait(), HANG_LIMIT_SECONDS)
            return web.Response(status=504)
        if self.failure is Failure.NOT_JSON:
            return web.Response(text="<html>gateway</html>", content_type="text/html")
        if self.failure is Failure.RATE_LIMITED:
            return self.rate_limited()
        return None

    def rate_limited(self) -> web.Response:
        raise NotImplementedError
