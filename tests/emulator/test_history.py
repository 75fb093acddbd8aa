from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
