"""Connection and request limits of the running bot: slow clients, too many connections,
oversized or over-nested Slack requests, response_url hosts, the /metrics token."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.http.server import LINGER_SECONDS
from bot.store import MemoryStore
from emulator.driver import FORM, JSON, SlackDriver, slack_signature
from emulator.server import RunningEmulator
from tests.conftest import SIGNING_SECRET, RunningBot, make_settings, start_bot
from tests.waiting import eventually

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
MAX_CONNECTIONS = 8
METRICS_TOKEN = "metrics-token-5f0e9a1c2b3d"


@pytest.fixture
async def limited(emulator: RunningEmulator) -> AsyncIterator[RunningBot]:
    settings = make_settings(
        emulator,
        BOT_HTTP_HEADER_TIMEOUT=HEADER_TIMEOUT,
        BOT_HTTP_BODY_TIMEOUT=BODY_TIMEOUT,
        BOT_HTTP_MAX_CONNECTIONS=MAX_CONNECTIONS,
        METRICS_TOKEN=METRICS_TOKEN,
    )
    running, runner = await start_bot(settings, MemoryStore())
    try:
        yield running
    finally:
        await runner.cleanup()


async def trickle(url: str, head: bytes, body: bytes = b"") -> tuple[float, bytes]:
    """Send `head` then `body` a byte every 0.1 s; return when the server closed, and what it
    answered."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    started = time.monotonic()
    answer = b""

    async def send_slowly() -> None:
        for byte in head + body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    sender = asyncio.create_task(send_slowly())
    try:
        while chunk := await asyncio.wait_for(reader.read(4096), timeout=30):
            answer += chunk
    except ConnectionResetError:
        pass
    finally:
        sender.cancel()
        writer.close()
    return time.monotonic() - started, answer


async def healthy(url: str) -> bool:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
        return response.status == 200


async def timed_gets(url: str, count: int) -> list[float]:
    took = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            started = time.monotonic()
            async with session.get(f"{url}/healthz") as response:
                assert response.status == 200
            took.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return took


async def test_a_slow_head_is_cut_off_while_other_requests_keep_their_latency(
    limited: RunningBot,
) -> None:
    head = b"POST /alerts/generic HTTP/1.1\r\nHost: bot\r\nX-Padding: " + b"a" * 200
    slow = [trickle(limited.url, head) for _ in range(MAX_CONNECTIONS // 2)]
    trickled, others = await asyncio.gather(asyncio.gather(*slow), timed_gets(limited.url, 20))
    cut_off = [took for took, _answer in trickled]
    assert all(HEADER_TIMEOUT - 0.05 <= took <= HEADER_TIMEOUT + 1.0 for took in cut_off), cut_off
    assert max(others) < 0.5, others


async def test_a_slow_body_is_cut_off_with_408(limited: RunningBot) -> None:
    head = (
        b"POST /alerts/generic HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer test-webhook-token-51d2\r\nContent-Length: 500\r\n\r\n"
    )
    writer_reader = await asyncio.open_connection(*limited.url.removeprefix("http://").split(":"))
    reader, writer = writer_reader
    writer.write(head)
    started = time.monotonic()

    async def drip() -> None:
        for _ in range(500):
            writer.write(b" ")
            await asyncio.sleep(0.1)

    dripping = asyncio.create_task(drip())
    answer = await asyncio.wait_for(reader.read(4096), timeout=10)
    answered = time.monotonic() - started
    while await asyncio.wait_for(reader.read(4096), timeout=10):
        pass
    closed = time.monotonic() - started
    dripping.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'"field": "$"' in answer
    assert BODY_TIMEOUT - 0.05 <= answered <= BODY_TIMEOUT + 1.0
    assert closed <= BODY_TIMEOUT + LINGER_SECONDS + 1.0


async def test_connections_past_the_cap_get_503_and_the_rest_still_work(
    limited: RunningBot,
) -> None:
    host, port = limited.url.removeprefix("http://").split(":")
    idle = [await asyncio.open_connection(host, int(port)) for _ in range(MAX_CONNECTIONS)]
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(4096), timeout=5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
    assert b"Retry-After: 1" in answer
    for _reader, idle_writer in idle:
        idle_writer.close()
    await eventually(lambda: healthy(limited.url), 5, what="room for a connection again")
    assert max(await timed_gets(limited.url, 3)) < 1.0


async def test_slack_bodies_over_a_mebibyte_are_413(limited: RunningBot) -> None:
    body = b"text=" + b"a" * (1024 * 1024)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, stamp, body),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(limited.events_url, data=io.BytesIO(body), headers=headers) as response,
    ):
        assert response.status == 413
        assert (await response.json())["field"] == "$"


async def test_signed_slack_json_nested_too_deep_is_400(limited: RunningBot) -> None:
    deep: object = {}
    for _ in range(40):
        deep = {"a": deep}
    body = json.dumps({"type": "event_callback", "event": deep}).encode()
    async with SlackDriver(limited.events_url, SIGNING_SECRET, "http://x") as driver:
        reply = await driver.send_raw(body, JSON)
        bomb = await driver.send_raw(b"[" * 200_000, JSON)
    assert reply.status == 400
    assert reply.json()["field"].startswith("event.a.a")
    assert bomb.status == 400


@pytest.mark.parametrize(
    "response_url",
    [
        "https://evil.example/commands/1",
        "http://hooks.slack.com/commands/1",  # Slack's host, but not over https
        "https://hooks.slack.com.evil.example/x",
        "javascript:alert(1)",
    ],
)
async def test_response_urls_off_slacks_origin_are_refused(
    limited: RunningBot, emulator: RunningEmulator, response_url: str
) -> None:
    form = {
        "command": "/incident",
        "text": "list",
        "user_id": "U0ALICE",
        "channel_id": "C0GENERAL",
        "response_url": response_url,
        "team_id": "T0EMULATED",
    }
    async with SlackDriver(limited.events_url, SIGNING_SECRET, "http://x") as driver:
        reply = await driver.send_raw(urlencode(form).encode(), FORM)
        action = {"type": "block_actions", "response_url": response_url, "actions": []}
        clicked = await driver.send_raw(urlencode({"payload": json.dumps(action)}).encode(), FORM)
    assert (reply.status, reply.json()["field"]) == (400, "response_url")
    assert (clicked.status, clicked.json()["field"]) == (400, "payload.response_url")
    assert emulator.state.response_posts == []


async def test_metrics_need_the_token_when_one_is_set(limited: RunningBot) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{limited.url}/metrics") as response:
            refused = response.status, await response.json()
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with session.get(f"{limited.url}/metrics", headers=headers) as response:
            allowed = response.status, await response.text()
    assert refused == (401, {"error": refused[1]["error"], "field": "Authorization"})
    assert allowed[0] == 200
    assert "bot_http_requests_total" in allowed[1]
    assert METRICS_TOKEN not in allowed[1]
