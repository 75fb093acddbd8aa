"""The listening socket and the connection-level limits that aiohttp leaves to its user.

A client that sends its request head a byte at a time, or never, must not hold a connection:

- head: aiohttp (3.14.5 and later) arms its keep-alive timer when a connection opens and again
  after each response, and closes the connection if no complete request head has arrived when
  it fires. `keepalive_timeout` is therefore the header deadline, as in other servers that bound
  the idle wait and the head together;
- body: each route reads its body through `bot.http.limits.read_body` with its own deadline
  (408 when it passes), and a body a handler left unread is discarded for at most
  `LINGER_SECONDS` before the connection closes;
- connections: past `max_connections` a new connection gets `503` with `Retry-After` and is
  closed at once, so the open ones keep their latency.

    limits = ServerLimits.from_settings(settings)
    runner = web.AppRunner(app, **limits.runner_options())
    await runner.setup()
    await CappedSite(runner, "127.0.0.1", 3000, limits.max_connections).start()
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from bot.settings import Settings
from bot.telemetry import HTTP_CONNECTIONS_REFUSED

log = structlog.get_logger(__name__)

BUSY_RETRY_AFTER_SECONDS = 1
SHUTDOWN_TIMEOUT_SECONDS = 10.0
# After an answer, the rest of a body the handler did not read (a refused request's) is read
# and dropped for at most this long, then the connection is closed.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class ServerLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 512

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        return cls(
            header_timeout=settings.BOT_HTTP_HEADER_TIMEOUT,
            body_timeout=settings.BOT_HTTP_BODY_TIMEOUT,
            max_connections=settings.BOT_HTTP_MAX_CONNECTIONS,
        )

    def runner_options(self) -> dict[str, Any]:
        return {
            "access_log": None,
            "shutdown_timeout": SHUTDOWN_TIMEOUT_SECONDS,
            "keepalive_timeout": self.header_timeout,
            "lingering_time": LINGER_SECONDS,
            # Handlers are cancelled when their client goes away instead of running on.
            "handler_cancellation": True,
        }


class CappedSite(web.BaseSite):
    """A TCP site that refuses connections beyond `max_connections` with a quick 503."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int) -> None:
        super().__init__(runner, backlog=min(max_connections, 4096))
        self._web_runner = runner
        self._host = host
        self._port = port
        self._max_connections = max_connections
        self.bound_port: int | None = None

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.bound_port or self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
        self.bound_port = self._server.sockets[0].getsockname()[1]

    def _protocol(self) -> asyncio.Protocol:
        server = self._web_runner.server
        assert server is not None
        if len(server.connections) >= self._max_connections:
            HTTP_CONNECTIONS_REFUSED.inc()
            return _Busy()
        return server()


class _Busy(asyncio.Protocol):
    """Answers one connection over the cap with 503 and closes it without reading a byte."""

    BODY = json.dumps(
        {"error": "too many open connections; retry shortly", "field": "connection"}
    ).encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        head = (
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: application/json\r\n"
            f"Retry-After: {BUSY_RETRY_AFTER_SECONDS}\r\n"
            f"Content-Length: {len(self.BODY)}\r\n"
            "Connection: close\r\n\r\n"
        )
        transport.write(head.encode() + self.BODY)
        transport.close()


async def start_site(
    app: web.Application, host: str, port: int, limits: ServerLimits
) -> tuple[web.AppRunner, CappedSite]:
    """Set the app up and listen; the caller cleans up with `await runner.cleanup()`."""
    runner = web.AppRunner(app, **limits.runner_options())
    await runner.setup()
    site = CappedSite(runner, host, port, limits.max_connections)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site


AppOrBuilder = web.Application | Coroutine[Any, Any, web.Application]


def run_until_stopped(app: AppOrBuilder, host: str, port: int, limits: ServerLimits) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully (what `web.run_app` does, with
    the connection cap)."""
    asyncio.run(_serve(app, host, port, limits))


async def _serve(app: AppOrBuilder, host: str, port: int, limits: ServerLimits) -> None:
    if not isinstance(app, web.Application):
        app = await app
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner, site = await start_site(app, host, port, limits)
    log.info("listening", address=site.name)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
