"""An aiohttp server on its own event loop in a thread, so its work is not counted as the bot's."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler


class ServerThread:
    def __init__(self, handler: Handler, paths: Sequence[str]) -> None:
        self._handler = handler
        self._paths = paths
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> str:
        """Start serving on a free 127.0.0.1 port; return the base URL."""
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._runner is not None:
            done = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            done.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self) -> str:
        app = web.Application()
        for path in self._paths:
            app.router.add_route("*", path, self._handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
