"""The external upload flow: get an upload URL, post the bytes to it, complete the upload."""

from __future__ import annotations

from typing import Any

from emulator.calls import ApiError, CallContext
from emulator.methods_chat import channel_for, mark_thread_parent, thread_root
from emulator.records import FileShare, JsonObject, Message, UploadedFile
from emulator.state import EmulatorState

UPLOAD_PATH = "/_emulator/upload/"


def get_upload_url(ctx: CallContext) -> JsonObject:
    filename = ctx.args.required("filename")
    length = ctx.args.required("length")
    if not length.isdigit() or int(length) < 1:
        raise ApiError("invalid_arguments", "length must be a positive integer")
    file = UploadedFile(
        id=ctx.state.next_id("F"),
        filename=filename,
        declared_length=int(length),
        alt_txt=ctx.args.text("alt_txt"),
        created=int(ctx.state.clock()),
    )
    ctx.state.files[file.id] = file
    return {"upload_url": f"{ctx.origin}{UPLOAD_PATH}{file.id}", "file_id": file.id}


def receive_upload(state: EmulatorState, file_id: str, content: bytes) -> UploadedFile | None:
    """Store the bytes posted to an upload URL; None when the URL was never issued."""
    file = state.files.get(file_id)
    if file is None or file.completed:
        return None
    file.content = content
    return file


def complete_upload(ctx: CallContext) -> JsonObject:
    files = [_uploaded(ctx.state, item) for item in _file_items(ctx)]
    destinations = _destinations(ctx)
    thread_ts = None
    if destinations and ctx.args.text("thread_ts"):
        thread_ts = thread_root(ctx, destinations[0])
    for file in files:
        file.completed = True
    for channel_id in destinations:
        _share(ctx, files, channel_id, thread_ts)
    return {"files": [_file_json(ctx.state, file) for file in files]}


def _file_items(ctx: CallContext) -> list[JsonObject]:
    items = ctx.args.json("files", "invalid_arguments")
    valid = isinstance(items, list) and items
    if not valid or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise ApiError("invalid_arguments", "files must be an array of objects with an id")
    return list(items)


def _uploaded(state: EmulatorState, item: dict[str, Any]) -> UploadedFile:
    file = state.files.get(str(item["id"]))
    if file is None or file.content is None or file.completed:
        raise ApiError("file_not_found")
    if item.get("title"):
        file.title = str(item["title"])
    return file


def _destinations(ctx: CallContext) -> list[str]:
    if ctx.args.text("channel_id"):
        channels = [channel_for(ctx, "channel_id")]
    else:
        references = ctx.args.text("channels") or ""
        found = [ctx.state.resolve_channel(r.strip()) for r in references.split(",") if r.strip()]
        if None in found:
            raise ApiError("channel_not_found")
        channels = [c for c in found if c is not None]
    if any(not channel.bot_is_member for channel in channels):
        raise ApiError("not_in_channel")
    return [channel.id for channel in channels]


def _share(
    ctx: CallContext, files: list[UploadedFile], channel_id: str, thread_ts: str | None
) -> None:
    ts = ctx.state.next_ts()
    for file in files:
        file.shares.append(FileShare(channel_id, thread_ts, ts))
    message = Message(
        channel=channel_id,
        ts=ts,
        text=ctx.args.text("initial_comment") or "",
        user=ctx.state.bot_user_id,
        bot_id=ctx.state.bot_id,
        thread_ts=thread_ts,
        files=[_file_json(ctx.state, file) for file in files],
    )
    ctx.state.add_message(message)
    if thread_ts is not None:
        mark_thread_parent(ctx.state, channel_id, thread_ts)


def _file_json(state: EmulatorState, file: UploadedFile) -> JsonObject:
    return file.to_slack(state.bot_user_id, state.team_url)
