from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulator.limits import Limits
from emulator.server import RunningEmulator

CHANNEL = "C0GENERAL"


async def test_history_lists_top_level_messages_newest_first_with_metadata(
    client: AsyncWebClient,
) -> None:
    first = await client.chat_postMessage(
        channel=CHANNEL,
        text="root",
        metadata={"event_type": "incident_root", "event_payload": {"incident_id": "i-1"}},
    )
    await client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=first["ts"])
    await client.chat_postMessage(channel=CHANNEL, text="second")
    plain = await client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in plain["messages"]] == ["second", "root"]
    assert "metadata" not in plain["messages"][1]
    full = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert full["messages"][1]["metadata"]["event_payload"] == {"incident_id": "i-1"}
    newer = await client.conversations_history(channel=CHANNEL, oldest=first["ts"])
    assert [m["text"] for m in newer["messages"]] == ["second"]


async def test_metadata_without_event_type_is_refused(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, text="x", metadata={"event_payload": {}})
    assert caught.value.response["error"] == "invalid_metadata_format"


async def test_history_pages_with_a_cursor(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.configure_limits(Limits(rate_limits_enabled=False))
    for number in range(5):
        await client.chat_postMessage(channel=CHANNEL, text=f"m{number}")
    first = await client.conversations_history(channel=CHANNEL, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    last = await client.conversations_history(
        channel=CHANNEL, limit=2, cursor=second["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in last["messages"]] == ["m0"]
    assert last["response_metadata"]["next_cursor"] == ""


async def test_replies_list_the_parent_then_its_replies_with_metadata(
    client: AsyncWebClient,
) -> None:
    parent = await client.chat_postMessage(channel=CHANNEL, text="root")
    tagged = {"event_type": "op", "event_payload": {"op": "note-1"}}
    first = await client.chat_postMessage(
        channel=CHANNEL, text="one", thread_ts=parent["ts"], metadata=tagged
    )
    await client.chat_postMessage(channel=CHANNEL, text="two", thread_ts=parent["ts"])
    thread = await client.conversations_replies(
        channel=CHANNEL, ts=parent["ts"], include_all_metadata=True
    )
    assert [m["text"] for m in thread["messages"]] == ["root", "one", "two"]
    assert thread["messages"][1]["metadata"]["event_payload"] == {"op": "note-1"}
    later = await client.conversations_replies(channel=CHANNEL, ts=first["ts"], oldest=first["ts"])
    assert [m["text"] for m in later["messages"]] == ["root", "two"]
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_replies(channel=CHANNEL, ts="1.000001")
    assert caught.value.response["error"] == "thread_not_found"


async def test_reading_a_private_channel_needs_groups_history(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.add_channel("G0SECRET", "secret", is_private=True)
    emulator.state.scopes = frozenset({"chat:write", "channels:history"})
    await client.conversations_history(channel=CHANNEL)
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_history(channel="G0SECRET")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "groups:history"
    emulator.state.scopes = frozenset({"chat:write", "channels:history", "groups:history"})
    assert (await client.conversations_history(channel="G0SECRET"))["messages"] == []


def test_the_apps_manifest_grants_history_in_public_and_private_channels() -> None:
    from pathlib import Path

    from emulator.manifest import manifest_scopes

    manifest = Path(__file__).resolve().parents[2] / "config" / "slack-app-manifest.yaml"
    scopes = manifest_scopes(manifest)
    assert {"chat:write", "files:write", "channels:history", "groups:history"} <= scopes
