"""Injected faults: 5xx answers and slow answers, from Python and over HTTP."""

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator
from emulator.faults import Fault
from emulator.limits import Limits


async def test_next_calls_answer_5xx_then_recover(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.faults.fail_next("chat.postMessage", count=2, status=503)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C0GENERAL", text="x")
        assert raised.value.response.status_code == 503
    await client.chat_postMessage(channel="C0GENERAL", text="x")
    assert len(emulator.state.channel_messages("C0GENERAL")) == 1
    assert [c.status for c in emulator.state.calls] == [503, 503, 200]


async def test_fault_only_hits_its_method(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.faults.fail_next("chat.update")
    await client.chat_postMessage(channel="C0GENERAL", text="unaffected")
    assert emulator.state.faults.pending() != []


async def test_server_error_retry_handler_recovers(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.faults.fail_next("auth.test", status=500)
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=1))
    assert (await client.auth_test())["ok"] is True
    assert [c.status for c in emulator.state.calls] == [500, 200]


async def test_delayed_calls_answer_late(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    emulator.state.faults.delay_next("auth.test", seconds=0.3)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started < 0.3


async def test_faults_over_http(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    url = emulator.url.replace("/api/", "/_emulator/faults")
    fault = {"method": "*", "count": 1, "status": 502}
    async with http.post(url, json=fault) as response:
        assert (await response.json()) == {"ok": True, "pending": 1}
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0ALICE")
    assert raised.value.response.status_code == 502
    await client.users_info(user="U0ALICE")


async def test_bad_fault_request_is_refused(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    url = emulator.url.replace("/api/", "/_emulator/faults")
    async with http.post(url, json={"method": "auth.test", "status": 404}) as response:
        assert response.status == 400
        assert "5xx" in (await response.json())["detail"]
    assert emulator.state.faults.pending() == []


async def test_clearing_faults_over_http(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    emulator.state.faults.add(Fault("auth.test", 3, status=500))
    async with http.delete(emulator.url.replace("/api/", "/_emulator/faults")) as response:
        assert response.status == 200
    assert emulator.state.faults.pending() == []


async def test_a_lost_reply_keeps_the_message_but_drops_the_answer(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.lost_replies.configure(share=1.0, methods=["chat.postMessage"])
    client.retry_handlers = []  # slack_sdk would post again after a dropped connection
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel="C0GENERAL", text="it landed")
    assert [m.text for m in emulator.state.channel_messages("C0GENERAL")] == ["it landed"]
    (call,) = emulator.state.calls_to("chat.postMessage")
    assert (call.ok, call.reply_lost) == (True, True)
    await client.chat_update(
        channel="C0GENERAL", ts=emulator.state.channel_messages("C0GENERAL")[0].ts, text="edit"
    )


async def test_a_share_of_replies_is_lost_over_http(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    emulator.state.configure_limits(Limits(rate_limits_enabled=False))
    client.retry_handlers = []
    url = f"{emulator.origin}/_emulator/lost-replies"
    async with http.post(url, json={"share": 0.3, "seed": 11}) as response:
        assert response.status == 200
    outcomes = []
    for number in range(40):
        try:
            await client.chat_postMessage(channel="C0GENERAL", text=f"m{number}")
            outcomes.append("answered")
        except aiohttp.ClientError:
            outcomes.append("lost")
    assert len(emulator.state.channel_messages("C0GENERAL")) == 40
    assert 4 <= outcomes.count("lost") <= 20
    assert outcomes.count("lost") == len(emulator.state.lost_replies.lost)
    async with http.post(url, json={"share": 2}) as response:
        assert response.status == 400
