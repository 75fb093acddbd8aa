"""What the emulated workspace holds: channels, people, messages, files, views and call records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    members: set[str] | None = None  # None: everyone in the workspace
    created: int = 1_700_000_000

    def has_member(self, user_id: str) -> bool:
        return self.members is None or user_id in self.members

    def to_slack(self) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": self.name == "general",
            "is_member": self.bot_is_member,
            "created": self.created,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    tz: str = "Europe/London"
    email: str = ""

    def to_slack(self, team_id: str) -> JsonObject:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": real_name,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "is_admin": False,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "email": self.email,
            },
        }


@dataclass
class UserGroup:
    id: str
    handle: str
    users: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Edit:
    """One earlier version of a message, kept when `chat.update` replaced it."""

    text: str
    blocks: list[JsonObject] | None
    replaced_at: float


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    blocks: list[JsonObject] | None = None
    thread_ts: str | None = None
    files: list[JsonObject] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)
    options: JsonObject = field(default_factory=dict)  # unfurl_links, reply_broadcast, ...
    deleted: bool = False
    metadata: JsonObject | None = None  # {"event_type": ..., "event_payload": {...}}

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self) -> JsonObject:
        message: JsonObject = {"type": "message", "ts": self.ts, "user": self.user}
        message["text"] = self.text
        if self.bot_id:
            message["bot_id"] = self.bot_id
        if self.blocks is not None:
            message["blocks"] = self.blocks
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.files:
            message["files"] = self.files
            message["upload"] = True
        if self.reactions:
            message["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.edits:
            message["edited"] = {"user": self.user, "ts": self.ts}
        return message

    def to_record(self) -> JsonObject:
        """The Slack shape plus what only the emulator knows: edits and options."""
        record = self.to_slack()
        record["channel"] = self.channel
        record["options"] = self.options
        record["deleted"] = self.deleted
        record["metadata"] = self.metadata
        record["edits"] = [
            {"text": edit.text, "blocks": edit.blocks, "replaced_at": edit.replaced_at}
            for edit in self.edits
        ]
        return record


@dataclass(frozen=True)
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[JsonObject] | None
    thread_ts: str | None
    message_ts: str


@dataclass
class ResponsePost:
    """A body the bot posted to a `response_url`, with the context the URL was issued for."""

    response_id: str
    body: JsonObject
    channel: str | None
    user: str | None
    message_ts: str | None
    received_at: float

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")


@dataclass(frozen=True)
class FileShare:
    channel: str
    thread_ts: str | None
    ts: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    declared_length: int
    alt_txt: str | None = None
    title: str | None = None
    content: bytes | None = None
    completed: bool = False
    shares: list[FileShare] = field(default_factory=list)
    created: int = 0

    def to_slack(self, user_id: str, permalink_base: str) -> JsonObject:
        size = len(self.content) if self.content is not None else 0
        channels = sorted({share.channel for share in self.shares})
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": _mimetype(self.filename),
            "filetype": self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else "",
            "user": user_id,
            "size": size,
            "alt_txt": self.alt_txt,
            "url_private": f"{permalink_base}files/{user_id}/{self.id}/{self.filename}",
            "permalink": f"{permalink_base}files/{user_id}/{self.id}/{self.filename}",
            "channels": channels,
            "shares": _shares(self.shares),
        }


@dataclass
class View:
    id: str
    view: JsonObject
    hash: str
    user_id: str | None = None  # set for Home tabs published with views.publish
    trigger_id: str | None = None
    history: list[JsonObject] = field(default_factory=list)

    def to_slack(self, team_id: str, bot_id: str) -> JsonObject:
        return {
            **self.view,
            "id": self.id,
            "team_id": team_id,
            "hash": self.hash,
            "state": {"values": {}},
            "root_view_id": self.id,
            "previous_view_id": None,
            "app_id": "A0EMULATOR",
            "bot_id": bot_id,
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.view.get("callback_id", ""),
            "external_id": self.view.get("external_id", ""),
        }


@dataclass(frozen=True)
class ApiCall:
    """One request to the Web API, kept so tests can check rates and outcomes."""

    method: str
    at: float  # wall clock, seconds
    status: int
    ok: bool
    error: str | None
    channel: str | None
    reply_lost: bool = False  # done, but the caller never got the answer


_MIMETYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "txt": "text/plain",
    "json": "application/json",
    "csv": "text/csv",
}


def _mimetype(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _MIMETYPES.get(extension, "application/octet-stream")


def _shares(shares: list[FileShare]) -> JsonObject:
    public: dict[str, list[JsonObject]] = {}
    for share in shares:
        entry: JsonObject = {"ts": share.ts, "reply_users": [], "reply_count": 0}
        if share.thread_ts:
            entry["thread_ts"] = share.thread_ts
        public.setdefault(share.channel, []).append(entry)
    return {"public": public} if public else {}
