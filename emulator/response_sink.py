"""Where `response_url` posts land: `POST /_emulator/response/<id>?channel=&user=&message_ts=`.

The query string carries what Slack would have remembered about the URL: the channel and user
of the command or click, and for a click the message it came from. Like Slack, a response can
replace or delete that message, post in the channel, or show an ephemeral reply; each URL
takes a few posts at most.
"""

from __future__ import annotations

import json

from aiohttp import web

from emulator.calls import ApiError
from emulator.http_api import STATE_KEY, injected_fault
from emulator.methods_chat import check_blocks
from emulator.records import Ephemeral, JsonObject, Message, ResponsePost
from emulator.state import EmulatorState

RESPONSE_FAULT_KEY = "response_url"


async def response_url_post(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    fault = await injected_fault(state, RESPONSE_FAULT_KEY)
    if fault is not None:
        return web.Response(status=fault.status, text="fatal_error")
    response_id = request.match_info["response_id"]
    if state.response_url_uses[response_id] >= state.limits.response_url_max_uses:
        return web.Response(status=404, text="used_url")
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError:
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(body, dict):
        return web.Response(status=400, text="invalid_payload")
    post = ResponsePost(
        response_id=response_id,
        body=body,
        channel=request.query.get("channel"),
        user=request.query.get("user"),
        message_ts=request.query.get("message_ts"),
        received_at=state.clock(),
    )
    try:
        _apply(state, post)
    except ApiError as error:
        return web.Response(status=400, text=error.error)
    state.response_url_uses[response_id] += 1
    state.response_posts.append(post)
    return web.Response(text="ok")


def _apply(state: EmulatorState, post: ResponsePost) -> None:
    body = post.body
    original = _original(state, post)
    if body.get("delete_original") and original is not None:
        original.deleted = True
        return
    text, blocks = _content(state, body)
    if body.get("replace_original") and original is not None:
        state.replace_message(original, text, blocks)
    elif post.response_type == "in_channel" and post.channel in state.channels:
        state.add_message(_channel_message(state, post, text, blocks))
    elif post.channel is not None and post.user is not None:
        thread_ts = body.get("thread_ts")
        state.ephemerals.append(
            Ephemeral(post.channel, post.user, text, blocks, thread_ts, state.next_ts())
        )


def _original(state: EmulatorState, post: ResponsePost) -> Message | None:
    if post.channel is None or post.message_ts is None:
        return None
    return state.find_message(post.channel, post.message_ts)


def _content(state: EmulatorState, body: JsonObject) -> tuple[str, list[JsonObject] | None]:
    text = body.get("text") if isinstance(body.get("text"), str) else ""
    blocks = body.get("blocks") or None
    if not text and blocks is None:
        raise ApiError("no_text")
    if blocks is not None:
        check_blocks(blocks, state, max_blocks=state.limits.max_blocks_per_message)
    return str(text), blocks


def _channel_message(
    state: EmulatorState, post: ResponsePost, text: str, blocks: list[JsonObject] | None
) -> Message:
    thread_ts = post.body.get("thread_ts")
    return Message(
        channel=str(post.channel),
        ts=state.next_ts(),
        text=text,
        user=state.bot_user_id,
        bot_id=state.bot_id,
        blocks=blocks,
        thread_ts=str(thread_ts) if thread_ts else None,
    )
