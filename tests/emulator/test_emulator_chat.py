"""chat.* and reactions.add: each method's happy path and its documented errors."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator

SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Checkout* is slow"}}]


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_post_message_stores_and_returns_the_message(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    response = await client.chat_postMessage(
        channel="C0INCIDENTS", text="fallback", blocks=SECTION, unfurl_links=False
    )
    assert response["channel"] == "C0INCIDENTS"
    assert response["message"]["ts"] == response["ts"]
    assert response["message"]["bot_id"] == "B0BOT"
    stored = emulator.state.find_message("C0INCIDENTS", response["ts"])
    assert stored is not None
    assert (stored.text, stored.blocks) == ("fallback", SECTION)
    assert stored.options["unfurl_links"] is False


async def test_post_message_by_channel_name(client: AsyncWebClient) -> None:
    response = await client.chat_postMessage(channel="#general", text="by name")
    assert response["channel"] == "C0GENERAL"


async def test_post_message_unknown_channel(client: AsyncWebClient) -> None:
    assert await error_of(client.chat_postMessage(channel="C0MISSING", text="x")) == (
        "channel_not_found"
    )


async def test_post_message_needs_text_or_blocks(client: AsyncWebClient) -> None:
    call = client.api_call("chat.postMessage", json={"channel": "C0GENERAL"})
    assert await error_of(call) == "no_text"


async def test_post_message_where_bot_is_not_a_member(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.add_channel("C0PRIVATE", "secret", is_private=True, bot_is_member=False)
    assert await error_of(client.chat_postMessage(channel="C0PRIVATE", text="x")) == (
        "not_in_channel"
    )


async def test_thread_replies_attach_to_the_parent(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel="C0GENERAL", text="incident opened")
    first = await client.chat_postMessage(
        channel="C0GENERAL", text="step 1", thread_ts=parent["ts"]
    )
    # Slack files a reply to a reply under the thread's parent.
    await client.chat_postMessage(channel="C0GENERAL", text="step 2", thread_ts=first["ts"])
    replies = emulator.state.thread_replies("C0GENERAL", parent["ts"])
    assert [r.text for r in replies] == ["step 1", "step 2"]
    assert [m.text for m in emulator.state.channel_messages("C0GENERAL")] == ["incident opened"]


async def test_reply_to_unknown_thread(client: AsyncWebClient) -> None:
    call = client.chat_postMessage(channel="C0GENERAL", text="x", thread_ts="1.000001")
    assert await error_of(call) == "thread_not_found"


async def test_update_keeps_edit_history(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="v1")
    await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="v2")
    updated = await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="v3")
    assert updated["text"] == "v3"
    message = emulator.state.find_message("C0GENERAL", posted["ts"])
    assert message is not None
    assert message.text == "v3"
    assert [edit.text for edit in message.edits] == ["v1", "v2"]


async def test_update_unknown_message(client: AsyncWebClient) -> None:
    call = client.chat_update(channel="C0GENERAL", ts="1.000001", text="x")
    assert await error_of(call) == "message_not_found"


async def test_post_ephemeral(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="psst")
    [ephemeral] = emulator.state.ephemerals
    assert (ephemeral.user, ephemeral.text) == ("U0ALICE", "psst")
    assert ephemeral.message_ts == response["message_ts"]


async def test_post_ephemeral_to_someone_outside_the_channel(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.add_channel("C0SMALL", "small", members={"U0BOT", "U0BOB"})
    call = client.chat_postEphemeral(channel="C0SMALL", user="U0ALICE", text="x")
    assert await error_of(call) == "user_not_in_channel"


async def test_permalink_of_a_reply_names_its_thread(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0GENERAL", text="p")
    reply = await client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=parent["ts"])
    link = await client.chat_getPermalink(channel="C0GENERAL", message_ts=reply["ts"])
    assert link["permalink"].startswith("https://emulated-workspace.slack.com/archives/C0GENERAL/p")
    assert f"thread_ts={parent['ts']}" in link["permalink"]


async def test_permalink_of_unknown_message(client: AsyncWebClient) -> None:
    call = client.chat_getPermalink(channel="C0GENERAL", message_ts="1.000001")
    assert await error_of(call) == "message_not_found"


async def test_reactions_add(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="x")
    await client.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="eyes")
    message = emulator.state.find_message("C0GENERAL", posted["ts"])
    assert message is not None
    assert message.reactions == {"eyes": ["U0BOT"]}
    again = client.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="eyes")
    assert await error_of(again) == "already_reacted"


async def test_reactions_add_bad_name(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="x")
    call = client.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="Not Valid")
    assert await error_of(call) == "invalid_name"
