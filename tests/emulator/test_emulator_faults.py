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
