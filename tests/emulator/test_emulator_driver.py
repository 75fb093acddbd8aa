"""The driver signs like Slack and sends Slack's payload shapes; a Bolt app accepts them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import Clock, SignatureVerifier

from emulator import BotReply, RunningEmulator, Signing, SlackDriver, slack_signature
from emulator.ids import trigger_issued_at

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class Captured:
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.bodies[index].decode()).items()}


@pytest.fixture
async def bot_stub() -> AsyncIterator[tuple[str, Captured]]:
    """A stand-in bot on a free port that records what it receives and answers 200."""
    captured = Captured()

    async def receive(request: web.Request) -> web.Response:
        captured.bodies.append(await request.read())
        captured.headers.append(dict(request.headers))
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_post("/slack/events", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/slack/events", captured
    await runner.cleanup()


@pytest.fixture
async def driver(
    bot_stub: tuple[str, Captured], emulator: RunningEmulator
) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(bot_stub[0], SECRET, emulator.response_sink_base) as slack:
        yield slack


def verified(captured: Captured, index: int = -1) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(
        captured.bodies[index], captured.headers[index]
    )


def test_signature_matches_slacks_documented_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = slack_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)
    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


async def test_slash_command_is_signed_and_shaped_like_slacks(
    driver: SlackDriver, bot_stub: tuple[str, Captured]
) -> None:
    reply = await driver.slash_command("/triage", "help", user_id="U0BOB", channel_id="C0INCIDENTS")
    captured = bot_stub[1]
    assert (reply.status, reply.json()) == (200, {"received": True})
    assert verified(captured)
    assert captured.headers[-1]["Content-Type"] == "application/x-www-form-urlencoded"
    form = captured.form()
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/triage",
        "help",
        "U0BOB",
        "C0INCIDENTS",
    )
    assert form["response_url"] == reply.response_url
    assert form["response_url"].startswith(driver.response_sink_base + "/")
    issued = trigger_issued_at(form["trigger_id"])
    assert issued is not None
    assert abs(issued - time.time()) < 5


async def test_badly_signed_and_unsigned_requests(
    driver: SlackDriver, bot_stub: tuple[str, Captured]
) -> None:
    captured = bot_stub[1]
    await driver.slash_command("/triage", "help", signing=Signing.WRONG)
    assert not verified(captured)
    await driver.slash_command("/triage", "help", signing=Signing.MISSING)
    assert "X-Slack-Signature" not in captured.headers[-1]
    assert "X-Slack-Request-Timestamp" not in captured.headers[-1]


async def test_timestamp_override(driver: SlackDriver, bot_stub: tuple[str, Captured]) -> None:
    captured = bot_stub[1]
    stale = int(time.time()) - 600
    await driver.slash_command("/triage", "help", timestamp=stale)
    assert captured.headers[-1]["X-Slack-Request-Timestamp"] == str(stale)
    assert not verified(captured)  # signed correctly, but too old for Slack's 5-minute window
    fresh_verifier = SignatureVerifier(SECRET, clock=_FixedClock(stale))
    assert fresh_verifier.is_valid_request(captured.bodies[-1], captured.headers[-1])


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


async def test_button_click_payload(driver: SlackDriver, bot_stub: tuple[str, Captured]) -> None:
    captured = bot_stub[1]
    reply = await driver.click_button(
        "incident_ack", "inc-42", message_ts="1700000000.000100", channel_id="C0INCIDENTS"
    )
    assert verified(captured)
    payload = json.loads(captured.form()["payload"])
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["action_id"] == "incident_ack"
    assert payload["actions"][0]["value"] == "inc-42"
    assert payload["container"]["message_ts"] == "1700000000.000100"
    assert payload["channel"]["id"] == "C0INCIDENTS"
    assert payload["user"]["id"] == "U0ALICE"
    assert payload["response_url"] == reply.response_url
    assert "message_ts=1700000000.000100" in payload["response_url"]


async def test_events_come_in_an_envelope_with_unique_ids(
    driver: SlackDriver, bot_stub: tuple[str, Captured]
) -> None:
    captured = bot_stub[1]
    await driver.app_home_opened("U0BOB")
    await driver.app_home_opened("U0BOB")
    assert verified(captured)
    first, second = (json.loads(body) for body in captured.bodies)
    assert first["type"] == "event_callback"
    assert first["event"]["type"] == "app_home_opened"
    assert first["event"]["user"] == "U0BOB"
    assert first["event_id"] != second["event_id"]
    assert captured.headers[-1]["Content-Type"] == "application/json"


async def test_response_url_reaches_the_emulator(
    driver: SlackDriver, emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    reply: BotReply = await driver.slash_command("/triage", "status", channel_id="C0GENERAL")
    assert reply.response_url is not None
    async with http.post(reply.response_url, json={"text": "working on it"}) as response:
        assert response.status == 200
    [post] = emulator.state.response_posts
    assert (post.channel, post.user, post.body["text"]) == ("C0GENERAL", "U0ALICE", "working on it")
