"""The Web API endpoint `POST /api/<method>` and the upload URLs it hands out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from emulator.calls import ApiError, CallContext, read_arguments, token_of
from emulator.limits import RateLimited
from emulator.methods import METHODS
from emulator.methods_files import receive_upload
from emulator.records import ApiCall, JsonObject
from emulator.socket_mode import SOCKET_PATH
from emulator.state import EmulatorState

STATE_KEY = web.AppKey("emulator_state", EmulatorState)
UPLOAD_FAULT_KEY = "upload"


@dataclass
class ApiAnswer:
    status: int
    body: JsonObject
    headers: dict[str, str] = field(default_factory=dict)
    channel: str | None = None


async def api_method(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    method = request.match_info["method"]
    started = state.clock()
    answer = await injected_fault(state, method)
    if answer is None:
        answer = await _answer(request, state, method)
    error = answer.body.get("error")
    ok = bool(answer.body.get("ok"))
    lost = ok and state.lost_replies.cut(method)
    state.record_call(
        ApiCall(
            method=method,
            at=started,
            status=answer.status,
            ok=ok,
            error=str(error) if error else None,
            channel=answer.channel,
            reply_lost=lost,
        )
    )
    if lost and request.transport is not None:
        request.transport.abort()  # the work is done; the caller sees the connection drop
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)


async def injected_fault(state: EmulatorState, key: str) -> ApiAnswer | None:
    """Apply a queued fault: wait if asked, then answer its 5xx (or None to go on)."""
    fault = state.faults.take(key)
    if fault is None:
        return None
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    if fault.status is None:
        return None
    return ApiAnswer(fault.status, {"ok": False, "error": "fatal_error"})


async def _answer(request: web.Request, state: EmulatorState, method: str) -> ApiAnswer:
    ctx: CallContext | None = None
    try:
        args = await read_arguments(request)
        ctx = CallContext(method, args, state, origin=str(request.url.origin()))
        body = _dispatch(ctx, token_of(request, args))
        return ApiAnswer(200, {"ok": True, **body}, channel=ctx.channel)
    except ApiError as error:
        return ApiAnswer(200, error.body(), channel=ctx.channel if ctx else None)
    except RateLimited as limited:
        headers = {"Retry-After": str(limited.retry_after)}
        body = {"ok": False, "error": "ratelimited"}
        return ApiAnswer(429, body, headers, channel=ctx.channel if ctx else None)


def _dispatch(ctx: CallContext, token: str | None) -> JsonObject:
    if token is None:
        raise ApiError("not_authed")
    if ctx.method == "apps.connections.open":
        return _open_connection(ctx, token)
    if token != ctx.state.bot_token:
        raise ApiError("invalid_auth")
    handler = METHODS.get(ctx.method)
    if handler is None:
        raise ApiError("unknown_method")
    ctx.state.limiter.check_method(ctx.method)
    return handler(ctx)


def _open_connection(ctx: CallContext, token: str) -> JsonObject:
    """Socket Mode needs the app-level token; a bot token is the wrong kind, as in Slack."""
    if token == ctx.state.bot_token:
        raise ApiError("not_allowed_token_type")
    if ctx.state.app_token is None or token != ctx.state.app_token:
        raise ApiError("invalid_auth")
    return {"url": ctx.origin.replace("http", "ws", 1) + SOCKET_PATH}


async def upload(request: web.Request) -> web.Response:
    """Accepts the file bytes at an upload URL, raw or as a multipart form, like Slack."""
    state = request.app[STATE_KEY]
    fault = await injected_fault(state, UPLOAD_FAULT_KEY)
    if fault is not None:
        return web.Response(status=fault.status, text="fatal_error")
    content = await _upload_bytes(request)
    file = receive_upload(state, request.match_info["file_id"], content)
    if file is None:
        return web.Response(status=404, text="file_not_found")
    return web.Response(text=f"OK - {len(content)}")


async def _upload_bytes(request: web.Request) -> bytes:
    if request.content_type != "multipart/form-data":
        return await request.read()
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader):
            return bytes(await part.read())
    return b""
