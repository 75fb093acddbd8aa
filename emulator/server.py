"""A local stand-in for Slack's Web API, for tests and the demo.

Example::

    emulator = await start_emulator(bot_token="xoxb-test")
    client = AsyncWebClient(token="xoxb-test", base_url=emulator.url)
    await client.chat_postMessage(channel="C0GENERAL", text="hello")
    assert emulator.state.channel_messages("C0GENERAL")[0].text == "hello"
    await emulator.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import web

from emulator import http_control
from emulator.http_api import STATE_KEY, api_method, upload
from emulator.limits import Limits
from emulator.methods_files import UPLOAD_PATH
from emulator.response_sink import response_url_post
from emulator.socket_mode import SOCKET_PATH, socket_endpoint
from emulator.state import EmulatorState

RESPONSE_PATH = "/_emulator/response"


def create_emulator_app(
    *,
    bot_token: str,
    app_token: str | None = None,
    limits: Limits | None = None,
    state: EmulatorState | None = None,
) -> web.Application:
    app = web.Application()
    state = state or EmulatorState(bot_token=bot_token, app_token=app_token, limits=limits)
    app[STATE_KEY] = state
    app.router.add_get(SOCKET_PATH, partial(socket_endpoint, hub=state.sockets))
    # Slack takes every method as POST, and as GET with a query string.
    app.router.add_post("/api/{method}", api_method)
    app.router.add_get("/api/{method}", api_method, allow_head=False)
    app.router.add_post(UPLOAD_PATH + "{file_id}", upload)
    app.router.add_post(RESPONSE_PATH + "/{response_id}", response_url_post)
    app.router.add_get("/_emulator/", http_control.page)
    app.router.add_get("/_emulator/files/{file_id}", http_control.file_content)
    app.router.add_get("/_emulator/messages", http_control.messages)
    app.router.add_get("/_emulator/calls", http_control.calls)
    app.router.add_get("/_emulator/state", http_control.snapshot)
    app.router.add_post("/_emulator/faults", http_control.add_faults)
    app.router.add_delete("/_emulator/faults", http_control.clear_faults)
    app.router.add_post("/_emulator/lost-replies", http_control.lose_replies)
    app.router.add_post("/_emulator/seed", http_control.seed)
    return app


@dataclass
class RunningEmulator:
    """A started emulator: `url` is the Web API base to give a client, e.g. .../api/."""

    origin: str
    state: EmulatorState
    runner: web.AppRunner

    @property
    def url(self) -> str:
        return f"{self.origin}/api/"

    @property
    def response_sink_base(self) -> str:
        return f"{self.origin}{RESPONSE_PATH}"

    @property
    def page_url(self) -> str:
        return f"{self.origin}/_emulator/"

    async def close(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> RunningEmulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


async def start_emulator(host: str = "127.0.0.1", port: int = 0, **kw: Any) -> RunningEmulator:
    """Serve the emulator on host:port (0 picks a free port); takes create_emulator_app's args."""
    app = create_emulator_app(**kw)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return RunningEmulator(f"http://{bound_host}:{bound_port}", app[STATE_KEY], runner)
