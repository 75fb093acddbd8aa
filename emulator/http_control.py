"""Routes under /_emulator/ to read the workspace, seed it and inject faults over HTTP."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import web

from emulator.faults import Fault
from emulator.html_page import render_page
from emulator.http_api import STATE_KEY
from emulator.records import JsonObject
from emulator.state import EmulatorState


async def messages(request: web.Request) -> web.Response:
    """GET /_emulator/messages?channel=ID: messages with their replies and edit history."""
    state = request.app[STATE_KEY]
    channel_id = request.query.get("channel", "")
    if channel_id not in state.channels:
        return _error(404, "channel_not_found", "pass ?channel= with a known channel ID")
    body = {"ok": True, "channel": channel_id, "messages": state.channel_record(channel_id)}
    return web.json_response(body)


async def calls(request: web.Request) -> web.Response:
    """GET /_emulator/calls[?method=chat.postMessage]: every Web API call, oldest first."""
    state = request.app[STATE_KEY]
    method = request.query.get("method")
    selected = [c for c in state.calls if method is None or c.method == method]
    return web.json_response({"ok": True, "calls": [dataclasses.asdict(c) for c in selected]})


async def snapshot(request: web.Request) -> web.Response:
    """GET /_emulator/state: ephemeral replies, response_url posts, views and files."""
    return web.json_response({"ok": True, **_snapshot(request.app[STATE_KEY])})


def _snapshot(state: EmulatorState) -> JsonObject:
    return {
        "channels": [c.to_slack() for c in state.channels.values()],
        "ephemerals": [dataclasses.asdict(e) for e in state.ephemerals],
        "responses": [
            {**dataclasses.asdict(p), "response_type": p.response_type}
            for p in state.response_posts
        ],
        "views": [v.to_slack(state.team_id, state.bot_id) for v in state.views.values()],
        "files": [f.to_slack(state.bot_user_id, state.team_url) for f in state.files.values()],
    }


async def add_faults(request: web.Request) -> web.Response:
    """POST /_emulator/faults {"method", "count", "status" | "delay_seconds"}."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    try:
        fault = Fault(
            method=str(body["method"]),
            remaining=int(body.get("count", 1)),
            status=int(body["status"]) if body.get("status") is not None else None,
            delay_seconds=float(body.get("delay_seconds", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as problem:
        raise _bad_request(f"invalid fault: {problem}") from None
    state.faults.add(fault)
    return web.json_response({"ok": True, "pending": len(state.faults.pending())})


async def lose_replies(request: web.Request) -> web.Response:
    """POST /_emulator/lost-replies {"share": 0.1, "methods": [...], "seed": 1}."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    try:
        methods = body.get("methods") or sorted(state.lost_replies.methods)
        state.lost_replies.configure(
            float(body["share"]), methods=[str(m) for m in methods], seed=int(body.get("seed", 0))
        )
    except (KeyError, TypeError, ValueError) as problem:
        raise _bad_request(f"invalid lost-replies setting: {problem}") from None
    return web.json_response({"ok": True, "lost": len(state.lost_replies.lost)})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults.clear()
    return web.json_response({"ok": True, "pending": 0})


async def seed(request: web.Request) -> web.Response:
    """POST /_emulator/seed {"channels": [...], "users": [...], "usergroups": [...]}."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    try:
        apply_seed(state, body)
    except (KeyError, TypeError) as problem:
        raise _bad_request(f"invalid seed entry: {problem}") from None
    return web.json_response({"ok": True})


def apply_seed(state: EmulatorState, body: JsonObject) -> None:
    """Add the channels, users and user groups described in `body`."""
    for channel in body.get("channels", []):
        members = channel.get("members")
        state.add_channel(
            str(channel["id"]),
            str(channel["name"]),
            is_private=bool(channel.get("is_private", False)),
            bot_is_member=bool(channel.get("bot_is_member", True)),
            members=set(members) if members is not None else None,
        )
    for user in body.get("users", []):
        state.add_user(str(user["id"]), str(user["name"]), real_name=user.get("real_name", ""))
    for group in body.get("usergroups", []):
        state.add_usergroup(str(group["id"]), str(group["handle"]), list(group["users"]))


async def page(request: web.Request) -> web.Response:
    """GET /_emulator/: the channels and threads as a page a person can read."""
    return web.Response(text=render_page(request.app[STATE_KEY]), content_type="text/html")


async def file_content(request: web.Request) -> web.Response:
    """GET /_emulator/files/ID: the bytes of an uploaded file, for the page to show."""
    state = request.app[STATE_KEY]
    file = state.files.get(request.match_info["file_id"])
    if file is None or file.content is None:
        return _error(404, "file_not_found", "no uploaded file has that ID")
    mimetype = file.to_slack(state.bot_user_id, state.team_url)["mimetype"]
    return web.Response(body=file.content, content_type=str(mimetype))


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError:
        raise _bad_request("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _bad_request("body must be a JSON object")
    return body


def _bad_request(detail: str) -> web.HTTPBadRequest:
    body = json.dumps({"ok": False, "error": "invalid_arguments", "detail": detail})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"ok": False, "error": error, "detail": detail}, status=status)
