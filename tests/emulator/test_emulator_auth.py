"""Authentication and request formats, answered the way Slack answers them."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator
from tests.emulator.conftest import TOKEN


async def test_missing_token_is_not_authed(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(emulator.url + "auth.test") as response:
        assert response.status == 200
        assert await response.json() == {"ok": False, "error": "not_authed"}


async def test_wrong_token_is_invalid_auth(emulator: RunningEmulator) -> None:
    client = AsyncWebClient(token="xoxb-not-the-right-one", base_url=emulator.url)
    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_auth"


async def test_auth_test_names_the_bot_and_team(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["ok"] is True
    assert response["user_id"] == "U0BOT"
    assert response["bot_id"] == "B0BOT"
    assert response["team_id"] == "T0EMULATED"


async def test_token_accepted_as_form_field(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    form = {"token": TOKEN, "channel": "C0GENERAL", "text": "from a form"}
    async with http.post(emulator.url + "chat.postMessage", data=form) as response:
        body = await response.json()
    assert body["ok"] is True
    assert emulator.state.find_message("C0GENERAL", body["ts"]) is not None


async def test_token_inside_json_body_is_ignored(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    payload = {"token": TOKEN, "channel": "C0GENERAL", "text": "json"}
    async with http.post(emulator.url + "chat.postMessage", json=payload) as response:
        assert (await response.json())["error"] == "not_authed"
    assert emulator.state.channel_messages("C0GENERAL") == []


async def test_json_body_with_bearer_header(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    payload = {"channel": "C0GENERAL", "text": "json body"}
    url = emulator.url + "chat.postMessage"
    async with http.post(url, json=payload, headers=headers) as response:
        body = await response.json()
    assert body["ok"] is True
    assert body["message"]["text"] == "json body"


async def test_malformed_json_body(emulator: RunningEmulator, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    url = emulator.url + "chat.postMessage"
    async with http.post(url, data=b"{not json", headers=headers) as response:
        assert (await response.json())["error"] == "invalid_json"


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("chat.teleport")
    assert raised.value.response["error"] == "unknown_method"


async def test_every_call_is_recorded(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    await client.auth_test()
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0NOWHERE", text="x")
    calls = emulator.state.calls
    assert [(c.method, c.ok, c.error) for c in calls] == [
        ("auth.test", True, None),
        ("chat.postMessage", False, "channel_not_found"),
    ]
