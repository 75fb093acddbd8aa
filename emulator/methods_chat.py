"""chat.* and reactions.add."""

from __future__ import annotations

import re
from typing import Any

from emulator.blocks import block_errors
from emulator.calls import ApiError, CallContext, MissingScope
from emulator.records import Channel, Ephemeral, JsonObject, Message
from emulator.state import EmulatorState

MESSAGE_OPTIONS = (
    "unfurl_links",
    "unfurl_media",
    "reply_broadcast",
    "mrkdwn",
    "link_names",
    "parse",
    "icon_emoji",
    "icon_url",
    "username",
)
REACTION_NAME = re.compile(r"^[a-z0-9_+\-']+(::skin-tone-[2-6])?$")


def channel_for(ctx: CallContext, name: str = "channel") -> Channel:
    reference = ctx.args.text(name)
    channel = ctx.state.resolve_channel(reference) if reference else None
    if channel is None:
        raise ApiError("channel_not_found")
    ctx.channel = channel.id
    return channel


def message_content(ctx: CallContext) -> tuple[str, list[JsonObject] | None]:
    """The text and blocks of a message, checked against Slack's limits."""
    text = ctx.args.text("text") or ""
    blocks = ctx.args.json("blocks", "invalid_blocks")
    if blocks == []:
        blocks = None
    if not text and blocks is None and not ctx.args.text("attachments"):
        raise ApiError("no_text")
    if len(text) > ctx.state.limits.max_text_chars:
        raise ApiError("msg_too_long")
    if blocks is not None:
        check_blocks(blocks, ctx.state, max_blocks=ctx.state.limits.max_blocks_per_message)
    return text, blocks


def check_blocks(blocks: Any, state: EmulatorState, *, max_blocks: int) -> None:
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks", "must be an array [json-pointer:/blocks]")
    errors = block_errors(blocks, state.limits, max_blocks=max_blocks)
    if errors:
        raise ApiError("invalid_blocks", *errors)


def post_message(ctx: CallContext) -> JsonObject:
    channel = channel_for(ctx)
    if not channel.bot_is_member:
        raise ApiError("not_in_channel")
    ctx.state.limiter.check_post_message(channel.id)
    text, blocks = message_content(ctx)
    thread_ts = thread_root(ctx, channel.id)
    options = {key: ctx.args.values[key] for key in MESSAGE_OPTIONS if key in ctx.args.values}
    message = ctx.state.add_message(
        Message(
            channel=channel.id,
            ts=ctx.state.next_ts(),
            text=text,
            user=ctx.state.bot_user_id,
            bot_id=ctx.state.bot_id,
            blocks=blocks,
            thread_ts=thread_ts,
            options=options,
            metadata=message_metadata(ctx),
        )
    )
    if thread_ts is not None:
        mark_thread_parent(ctx.state, channel.id, thread_ts)
    return {"channel": channel.id, "ts": message.ts, "message": message.to_slack()}


def message_metadata(ctx: CallContext) -> JsonObject | None:
    """Slack's message metadata: an event_type name and an event_payload object."""
    metadata = ctx.args.json("metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise ApiError("invalid_metadata_format", "metadata needs an event_type string")
    if not isinstance(metadata.get("event_payload", {}), dict):
        raise ApiError("invalid_metadata_format", "event_payload must be an object")
    return dict(metadata)


def conversation_history(ctx: CallContext) -> JsonObject:
    """Top-level messages, newest first, between `oldest` and `latest` (exclusive), a page of
    `limit` at a time (`response_metadata.next_cursor` for the next one)."""
    channel = channel_for(ctx)
    require_history_scope(ctx, channel)
    oldest, latest = _time_range(ctx)
    found = [
        m
        for m in reversed(ctx.state.channel_messages(channel.id))
        if not m.deleted and oldest < float(m.ts) < latest
    ]
    return {**_page(ctx, found), "pin_count": 0}


def conversation_replies(ctx: CallContext) -> JsonObject:
    """A thread, oldest first: its parent, then the replies between `oldest` and `latest`."""
    channel = channel_for(ctx)
    require_history_scope(ctx, channel)
    parent = ctx.state.find_message(channel.id, ctx.args.required("ts", "thread_not_found"))
    if parent is None or parent.deleted:
        raise ApiError("thread_not_found")
    if parent.is_reply:
        parent = ctx.state.find_message(channel.id, str(parent.thread_ts)) or parent
    oldest, latest = _time_range(ctx)
    replies = [
        m
        for m in ctx.state.thread_replies(channel.id, parent.ts)
        if not m.deleted and oldest < float(m.ts) < latest
    ]
    return _page(ctx, [parent, *replies])


def require_history_scope(ctx: CallContext, channel: Channel) -> None:
    """Reading history needs channels:history, or groups:history for a private channel."""
    needed = "groups:history" if channel.is_private else "channels:history"
    scopes = ctx.state.scopes
    if scopes is not None and needed not in scopes:
        raise MissingScope(needed, sorted(scopes))


def _time_range(ctx: CallContext) -> tuple[float, float]:
    return float(ctx.args.text("oldest") or 0), float(ctx.args.text("latest") or "inf")


def _page(ctx: CallContext, found: list[Message]) -> JsonObject:
    limit = max(1, min(int(ctx.args.text("limit") or 100), 999))
    start = int(ctx.args.text("cursor") or 0)
    with_metadata = bool(ctx.args.flag("include_all_metadata"))
    messages = []
    for message in found[start : start + limit]:
        shaped = message.to_slack()
        if with_metadata and message.metadata is not None:
            shaped["metadata"] = message.metadata
        messages.append(shaped)
    more = start + limit < len(found)
    return {
        "messages": messages,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def thread_root(ctx: CallContext, channel_id: str) -> str | None:
    """The parent of the thread to reply in; a reply's ts leads to its parent, as in Slack."""
    thread_ts = ctx.args.text("thread_ts")
    if thread_ts is None:
        return None
    target = ctx.state.find_message(channel_id, thread_ts)
    if target is None:
        raise ApiError("thread_not_found")
    return target.thread_ts if target.is_reply else target.ts


def mark_thread_parent(state: EmulatorState, channel_id: str, thread_ts: str) -> None:
    parent = state.find_message(channel_id, thread_ts)
    if parent is not None and parent.thread_ts is None:
        parent.thread_ts = parent.ts


def update_message(ctx: CallContext) -> JsonObject:
    channel = channel_for(ctx)
    message = _message_at(ctx, channel.id, ctx.args.text("ts"))
    if message.user != ctx.state.bot_user_id:
        raise ApiError("cant_update_message")
    text, blocks = message_content(ctx)
    ctx.state.replace_message(message, text, blocks)
    return {"channel": channel.id, "ts": message.ts, "text": text, "message": message.to_slack()}


def post_ephemeral(ctx: CallContext) -> JsonObject:
    channel = channel_for(ctx)
    user = ctx.args.required("user", "user_not_in_channel")
    if user not in ctx.state.users or not channel.has_member(user):
        raise ApiError("user_not_in_channel")
    text, blocks = message_content(ctx)
    message_ts = ctx.state.next_ts()
    ctx.state.ephemerals.append(
        Ephemeral(channel.id, user, text, blocks, ctx.args.text("thread_ts"), message_ts)
    )
    return {"message_ts": message_ts}


def get_permalink(ctx: CallContext) -> JsonObject:
    channel = channel_for(ctx)
    message = _message_at(ctx, channel.id, ctx.args.text("message_ts"))
    link = f"{ctx.state.team_url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def add_reaction(ctx: CallContext) -> JsonObject:
    if not ctx.args.text("channel") or not ctx.args.text("timestamp"):
        raise ApiError("no_item_specified")
    channel = channel_for(ctx)
    name = (ctx.args.text("name") or "").strip(":")
    if not REACTION_NAME.match(name):
        raise ApiError("invalid_name")
    message = _message_at(ctx, channel.id, ctx.args.text("timestamp"))
    users = message.reactions.setdefault(name, [])
    if ctx.state.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(ctx.state.bot_user_id)
    return {}


def _message_at(ctx: CallContext, channel_id: str, ts: str | None) -> Message:
    message = ctx.state.find_message(channel_id, ts) if ts else None
    if message is None or message.deleted:
        raise ApiError("message_not_found")
    return message
