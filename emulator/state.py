"""The emulated workspace: everything the Web API changed, readable from tests."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from emulator.faults import FaultPlan, LostReplies
from emulator.limits import Clock, Limits, RateLimiter
from emulator.records import (
    ApiCall,
    Channel,
    Edit,
    Ephemeral,
    JsonObject,
    Message,
    ResponsePost,
    UploadedFile,
    User,
    UserGroup,
    View,
)
from emulator.socket_mode import SocketHub

TEAM_ID = "T0EMULATED"
TEAM_NAME = "Emulated Workspace"
TEAM_URL = "https://emulated-workspace.slack.com/"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"


class EmulatorState:
    """Channels, people, messages, files, views and the log of every API call.

    Seeded with #general (C0GENERAL), #incidents (C0INCIDENTS), two people (U0ALICE, U0BOB)
    and the @oncall group (S0ONCALL); add more with `add_channel`, `add_user`, `add_usergroup`.
    """

    def __init__(
        self,
        *,
        bot_token: str,
        app_token: str | None = None,
        limits: Limits | None = None,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.sockets = SocketHub()
        self.team_id = TEAM_ID
        self.team_name = TEAM_NAME
        self.team_url = TEAM_URL
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.clock = clock
        self._monotonic = monotonic
        self.limiter = RateLimiter(limits or Limits(), monotonic)
        self.faults = FaultPlan()
        self.lost_replies = LostReplies()
        # The bot token's scopes; None grants every method (set it to check the manifest's).
        self.scopes: frozenset[str] | None = None
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.response_posts: list[ResponsePost] = []
        self.files: dict[str, UploadedFile] = {}
        self.views: dict[str, View] = {}
        self.calls: list[ApiCall] = []
        self.used_trigger_ids: set[str] = set()
        self.response_url_uses: Counter[str] = Counter()
        self._last_ts_micros = 0
        self._serial = 0
        self._seed_defaults()

    @property
    def limits(self) -> Limits:
        return self.limiter.limits

    def configure_limits(self, limits: Limits) -> None:
        """Swap the limits (and start every rate-limit bucket afresh)."""
        self.limiter = RateLimiter(limits, self._monotonic)

    # seeding

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        bot_is_member: bool = True,
        members: set[str] | None = None,
    ) -> Channel:
        channel = Channel(channel_id, name, is_private, bot_is_member, members)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def add_user(self, user_id: str, name: str, **details: Any) -> User:
        user = User(user_id, name, **details)
        self.users[user_id] = user
        return user

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> UserGroup:
        group = UserGroup(group_id, handle, list(users))
        self.usergroups[group_id] = group
        return group

    def _seed_defaults(self) -> None:
        self.add_user(self.bot_user_id, "triage-bot", real_name="Triage Bot", is_bot=True)
        self.add_user("U0ALICE", "alice", real_name="Alice Example", email="alice@example.com")
        self.add_user("U0BOB", "bob", real_name="Bob Example", email="bob@example.com")
        self.add_channel("C0GENERAL", "general")
        self.add_channel("C0INCIDENTS", "incidents")
        self.add_usergroup("S0ONCALL", "oncall", ["U0ALICE"])

    # identifiers

    def next_ts(self) -> str:
        """A message timestamp like Slack's ("1700000000.000100"), unique and increasing."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}0EMU{self._serial:06d}"

    # messages

    def resolve_channel(self, reference: str) -> Channel | None:
        """A channel by ID, or by name with or without '#', as Slack accepts both."""
        if reference in self.channels:
            return self.channels[reference]
        name = reference.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)

    def add_message(self, message: Message) -> Message:
        self.messages.setdefault(message.channel, []).append(message)
        return message

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        return next((m for m in self.messages.get(channel_id, []) if m.ts == ts), None)

    def replace_message(self, message: Message, text: str, blocks: list[JsonObject] | None) -> None:
        message.edits.append(Edit(message.text, message.blocks, self.clock()))
        message.text = text
        message.blocks = blocks

    def channel_messages(self, channel_id: str) -> list[Message]:
        """Top-level messages in the order they were posted."""
        return [m for m in self.messages.get(channel_id, []) if not m.is_reply]

    def thread_replies(self, channel_id: str, thread_ts: str) -> list[Message]:
        return [
            m for m in self.messages.get(channel_id, []) if m.is_reply and m.thread_ts == thread_ts
        ]

    def channel_record(self, channel_id: str) -> list[JsonObject]:
        """Top-level messages, each with its replies and edit history, as JSON."""
        records = []
        for message in self.channel_messages(channel_id):
            record = message.to_record()
            record["replies"] = [
                reply.to_record() for reply in self.thread_replies(channel_id, message.ts)
            ]
            records.append(record)
        return records

    # calls

    def record_call(self, call: ApiCall) -> None:
        self.calls.append(call)

    def calls_to(self, method: str, *, channel: str | None = None) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if c.method == method and (channel is None or c.channel == channel)
        ]

    def most_calls_within(self, method: str, seconds: float, *, channel: str | None = None) -> int:
        """The most accepted calls to `method` that fell inside any window of `seconds`."""
        times = sorted(c.at for c in self.calls_to(method, channel=channel) if c.ok)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most
