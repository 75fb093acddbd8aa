"""Reading the workspace over HTTP, seeding it, and the response_url sink."""

from __future__ import annotations

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator
from emulator.driver import SlackDriver


def control(emulator: RunningEmulator, path: str) -> str:
    return emulator.url.replace("/api/", "/_emulator/") + path


async def test_messages_listing_nests_replies_and_edits(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    parent = await client.chat_postMessage(channel="C0INCIDENTS", text="opened")
    await client.chat_update(channel="C0INCIDENTS", ts=parent["ts"], text="resolved")
    await client.chat_postMessage(channel="C0INCIDENTS", text="finding", thread_ts=parent["ts"])
    async with http.get(control(emulator, "messages"), params={"channel": "C0INCIDENTS"}) as r:
        body = await r.json()
    [message] = body["messages"]
    assert message["text"] == "resolved"
    assert [edit["text"] for edit in message["edits"]] == ["opened"]
    assert [reply["text"] for reply in message["replies"]] == ["finding"]


async def test_messages_listing_of_unknown_channel(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(control(emulator, "messages"), params={"channel": "C0NONE"}) as r:
        assert r.status == 404
        assert (await r.json())["error"] == "channel_not_found"


async def test_calls_listing(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    await client.auth_test()
    await client.chat_postMessage(channel="C0GENERAL", text="x")
    async with http.get(control(emulator, "calls"), params={"method": "chat.postMessage"}) as r:
        [call] = (await r.json())["calls"]
    assert (call["method"], call["status"], call["channel"]) == (
        "chat.postMessage",
        200,
        "C0GENERAL",
    )


async def test_page_renders_block_text_and_escapes_html(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "p99 <b>2.1s</b>"}}]
    parent = await client.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=blocks)
    await client.chat_postMessage(channel="C0GENERAL", text="threaded", thread_ts=parent["ts"])
    async with http.get(control(emulator, "")) as r:
        assert r.content_type == "text/html"
        page = await r.text()
    assert "p99 &lt;b&gt;2.1s&lt;/b&gt;" in page
    assert "<b>2.1s</b>" not in page
    assert "class='thread'" in page
    assert "threaded" in page
    assert "#incidents" in page


async def test_page_shows_uploaded_images_and_earlier_versions(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"chart-bytes"
    root = await client.chat_postMessage(channel="C0INCIDENTS", text="checking <step 1>")
    await client.chat_update(channel="C0INCIDENTS", ts=root["ts"], text="diagnosis ready")
    await client.files_upload_v2(
        channel="C0INCIDENTS",
        thread_ts=root["ts"],
        content=png,
        filename="lag.png",
        alt_txt="p99 lag <429 ms>",
    )
    async with http.get(control(emulator, "")) as r:
        page = await r.text()
    [file] = emulator.state.files.values()
    assert (
        f"<img class='upload' src='/_emulator/files/{file.id}' alt='p99 lag &lt;429 ms&gt;'" in page
    )
    assert "edited 1×" in page
    assert "<summary>1 earlier version(s)</summary><pre>checking &lt;step 1&gt;</pre>" in page
    async with http.get(control(emulator, f"files/{file.id}")) as r:
        assert (r.status, r.content_type, await r.read()) == (200, "image/png", png)
    async with http.get(control(emulator, "files/F0NOSUCHFILE")) as r:
        assert r.status == 404


async def test_seeding_over_http(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    seed = {
        "channels": [{"id": "C0PAYMENTS", "name": "payments"}],
        "users": [{"id": "U0DAVE", "name": "dave"}],
        "usergroups": [{"id": "S0PAY", "handle": "pay", "users": ["U0DAVE"]}],
    }
    async with http.post(control(emulator, "seed"), json=seed) as r:
        assert r.status == 200
    await client.chat_postMessage(channel="C0PAYMENTS", text="hello payments")
    assert (await client.usergroups_users_list(usergroup="S0PAY"))["users"] == ["U0DAVE"]


async def test_bad_seed_is_refused(emulator: RunningEmulator, http: aiohttp.ClientSession) -> None:
    async with http.post(control(emulator, "seed"), json={"channels": [{"id": "C1"}]}) as r:
        assert r.status == 400
    assert "C1" not in emulator.state.channels


def sink_url(emulator: RunningEmulator, **context: str) -> str:
    return SlackDriver("http://unused", "unused", emulator.response_sink_base).response_url(
        **context
    )


async def test_ephemeral_response_is_recorded(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    url = sink_url(emulator, channel="C0GENERAL", user="U0ALICE")
    async with http.post(url, json={"text": "only you see this"}) as r:
        assert r.status == 200
    [post] = emulator.state.response_posts
    assert (post.response_type, post.channel, post.user) == ("ephemeral", "C0GENERAL", "U0ALICE")
    [ephemeral] = emulator.state.ephemerals
    assert ephemeral.text == "only you see this"
    assert emulator.state.channel_messages("C0GENERAL") == []


async def test_in_channel_response_posts_a_message(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    url = sink_url(emulator, channel="C0GENERAL", user="U0ALICE")
    async with http.post(url, json={"response_type": "in_channel", "text": "for all"}) as r:
        assert r.status == 200
    [message] = emulator.state.channel_messages("C0GENERAL")
    assert message.text == "for all"


async def test_replace_original_edits_the_clicked_message(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="[Acknowledge]")
    url = sink_url(emulator, channel="C0GENERAL", user="U0ALICE", message_ts=posted["ts"])
    async with http.post(url, json={"replace_original": True, "text": "acked by alice"}) as r:
        assert r.status == 200
    message = emulator.state.find_message("C0GENERAL", posted["ts"])
    assert message is not None
    assert (message.text, message.edits[0].text) == ("acked by alice", "[Acknowledge]")


async def test_response_url_rejects_empty_and_overused_posts(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    url = sink_url(emulator, channel="C0GENERAL", user="U0ALICE")
    async with http.post(url, json={}) as r:
        assert (r.status, await r.text()) == (400, "no_text")
    for _ in range(5):
        async with http.post(url, json={"text": "again"}) as r:
            assert r.status == 200
    async with http.post(url, json={"text": "one too many"}) as r:
        assert (r.status, await r.text()) == (404, "used_url")
    assert len(emulator.state.response_posts) == 5
