"""Slack's Socket Mode, emulated: `apps.connections.open` hands out a WebSocket URL on which the
emulator says hello, pushes envelopes (slash commands, interactions, events) and waits for the
app's acknowledgement of each."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

SOCKET_PATH = "/_emulator/socket"
ACK_TIMEOUT_SECONDS = 3.0


class SocketHub:
    """The app connections currently open, and the acknowledgements still awaited."""

    def __init__(self) -> None:
        self.connections: list[web.WebSocketResponse] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.connected = asyncio.Event()

    async def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one envelope to a connected app; return its acknowledgement message."""
        if not self.connections:
            raise RuntimeError("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[envelope_id] = future
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.connections[-1].send_str(json.dumps(envelope))
        try:
            return await asyncio.wait_for(future, ACK_TIMEOUT_SECONDS)
        finally:
            self._waiting.pop(envelope_id, None)

    def acknowledged(self, message: dict[str, Any]) -> None:
        future = self._waiting.get(str(message.get("envelope_id", "")))
        if future is not None and not future.done():
            future.set_result(message)


async def socket_endpoint(request: web.Request, hub: SocketHub) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    hub.connections.append(socket)
    hub.connected.set()
    hello = {"type": "hello", "num_connections": len(hub.connections), "debug_info": {}}
    await socket.send_str(json.dumps(hello))
    try:
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                hub.acknowledged(json.loads(message.data))
    finally:
        hub.connections.remove(socket)
        if not hub.connections:
            hub.connected.clear()
    return socket
