"""Sends the bot what Slack would: slash commands, button clicks and events, signed like Slack.

Example::

    async with SlackDriver(bot_url + "/slack/events", secret, emulator.response_sink_base) as d:
        reply = await d.slash_command("/triage", "help", user_id="U0ALICE")
        assert reply.status == 200
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp

from emulator.ids import make_response_id, make_trigger_id
from emulator.state import BOT_USER_ID, TEAM_ID

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A0EMULATOR"
TEAM_DOMAIN = "emulated-workspace"


class Signing(Enum):
    VALID = "valid"
    MISSING = "missing"  # no signature or timestamp headers at all
    WRONG = "wrong"  # signed with a different secret


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BotReply:
    """The bot's HTTP answer, with the response_url and trigger_id the request carried."""

    status: int
    body: str
    headers: Mapping[str, str]
    response_url: str | None = None
    trigger_id: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackDriver:
    def __init__(
        self,
        bot_events_url: str,
        signing_secret: str,
        response_sink_base: str,
        *,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.bot_events_url = bot_events_url
        self._secret = signing_secret
        self.response_sink_base = response_sink_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def slash_command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        signing: Signing = Signing.VALID,
        timestamp: int | None = None,
    ) -> BotReply:
        response_url = self.response_url(channel=channel_id, user=user_id)
        trigger_id = make_trigger_id()
        form = {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": "emulated",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        reply = await self.send_raw(urlencode(form).encode(), FORM, signing, timestamp)
        return _with(reply, response_url, trigger_id)

    async def click_button(
        self,
        action_id: str,
        value: str | None = None,
        *,
        message_ts: str,
        block_id: str = "actions",
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        message: Mapping[str, Any] | None = None,
        signing: Signing = Signing.VALID,
        timestamp: int | None = None,
    ) -> BotReply:
        """A click on a button in the message at `message_ts` (pass `message` to include it)."""
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": action_id, "emoji": True},
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        payload = self._block_actions(action, user_id, channel_id, message_ts, message)
        form = urlencode({"payload": json.dumps(payload)}).encode()
        reply = await self.send_raw(form, FORM, signing, timestamp)
        return _with(reply, payload["response_url"], payload["trigger_id"])

    def _block_actions(
        self,
        action: dict[str, Any],
        user_id: str,
        channel_id: str,
        message_ts: str,
        message: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "unused-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": make_trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "emulated"},
            "message": dict(message) if message else {"type": "message", "ts": message_ts},
            "state": {"values": {}},
            "response_url": self.response_url(
                channel=channel_id, user=user_id, message_ts=message_ts
            ),
            "actions": [action],
        }

    async def app_home_opened(
        self,
        user_id: str = "U0ALICE",
        *,
        tab: str = "home",
        signing: Signing = Signing.VALID,
        timestamp: int | None = None,
    ) -> BotReply:
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id.removeprefix("U"),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        return await self.send_event(event, signing=signing, timestamp=timestamp)

    async def send_event(
        self,
        event: Mapping[str, Any],
        *,
        signing: Signing = Signing.VALID,
        timestamp: int | None = None,
    ) -> BotReply:
        """Deliver `event` inside an Events API envelope with a fresh `event_id`."""
        envelope = {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(8).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self.send_raw(json.dumps(envelope).encode(), JSON, signing, timestamp)

    async def url_verification(self, challenge: str) -> BotReply:
        body = {"token": "unused", "challenge": challenge, "type": "url_verification"}
        return await self.send_raw(json.dumps(body).encode(), JSON)

    async def send_raw(
        self,
        body: bytes,
        content_type: str,
        signing: Signing = Signing.VALID,
        timestamp: int | None = None,
    ) -> BotReply:
        """POST `body` to the bot, signed per `signing`, stamped `timestamp` (default: now)."""
        headers = {"Content-Type": content_type}
        if signing is not Signing.MISSING:
            stamp = str(int(time.time()) if timestamp is None else timestamp)
            secret = self._secret if signing is Signing.VALID else self._secret + "-wrong"
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = slack_signature(secret, stamp, body)
        session = self._client()
        async with session.post(self.bot_events_url, data=body, headers=headers) as response:
            text = await response.text()
            return BotReply(response.status, text, dict(response.headers))

    def response_url(self, **context: str) -> str:
        """A fresh response_url at the emulator's sink, remembering channel/user/message_ts."""
        return f"{self.response_sink_base}/{make_response_id()}?{urlencode(context)}"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _with(reply: BotReply, response_url: str, trigger_id: str) -> BotReply:
    return BotReply(reply.status, reply.body, reply.headers, response_url, trigger_id)
