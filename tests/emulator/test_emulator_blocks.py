"""Slack's message and Block Kit limits."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulator import Limits, RunningEmulator
from emulator.blocks import block_errors
from emulator.plain_text import blocks_to_text
from tests.emulator.conftest import TOKEN


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def post_error(client: AsyncWebClient, blocks: list[dict[str, object]]) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=blocks)
    return raised.value


async def test_fifty_blocks_fit_and_fifty_one_do_not(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(
        channel="C0GENERAL", text="t", blocks=[section(str(i)) for i in range(50)]
    )
    error = await post_error(client, blocks=[section(str(i)) for i in range(51)])
    assert error.response["error"] == "invalid_blocks"
    assert len(emulator.state.channel_messages("C0GENERAL")) == 1


async def test_section_text_limit_is_3000_characters(client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[section("x" * 3000)])
    error = await post_error(client, blocks=[section("x" * 3001)])
    assert error.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text/text" in error.response["errors"][0]


async def test_overlong_text_is_msg_too_long(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0GENERAL", text="x" * 40_001)
    assert raised.value.response["error"] == "msg_too_long"


async def test_malformed_blocks_json_in_a_form(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    form = {"token": TOKEN, "channel": "C0GENERAL", "blocks": "[{not json"}
    async with http.post(emulator.url + "chat.postMessage", data=form) as response:
        assert (await response.json())["error"] == "invalid_blocks"


async def test_update_checks_blocks_too(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="v1")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(
            channel="C0GENERAL", ts=posted["ts"], text="v2", blocks=[{"type": "carousel"}]
        )
    assert raised.value.response["error"] == "invalid_blocks"


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "/0/text/text"),
        ({"type": "header", "text": {"type": "mrkdwn", "text": "h"}}, "/0/text/type"),
        ({"type": "section"}, "/0]"),
        ({"type": "section", "text": {"type": "mrkdwn", "text": ""}}, "/0/text/text"),
        ({"type": "context", "elements": []}, "/0/elements"),
        ({"type": "actions", "elements": [{"type": "button"}]}, "/0/elements/0/text"),
        ({"type": "divider", "block_id": "b" * 256}, "/0/block_id"),
        ({"type": "image", "image_url": "https://x/y.png"}, "/0/alt_text"),
    ],
)
def test_block_errors_point_at_the_field(block: dict[str, object], pointer: str) -> None:
    [error] = block_errors([block], Limits(), max_blocks=50)
    assert f"[json-pointer:/blocks{pointer}" in error


def test_valid_blocks_have_no_errors() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Incident"}},
        section("body"),
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ack",
                    "value": "inc-1",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                }
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by bot"}]},
    ]
    assert block_errors(blocks, Limits(), max_blocks=50) == []


def test_blocks_render_as_plain_text() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Checkout degraded"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "p99 *2.1s*"},
            "fields": [{"type": "mrkdwn", "text": "lag 340ms"}],
        },
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Ack"}}],
        },
        {"type": "image", "image_url": "https://x/y.png", "alt_text": "latency chart"},
    ]
    assert blocks_to_text(blocks) == (
        "Checkout degraded\np99 *2.1s*\nlag 340ms\n----\n[Ack]\n[image: latency chart]"
    )
