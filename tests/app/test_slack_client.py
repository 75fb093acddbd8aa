from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import BotWebClient, make_outbox_client
from bot.slack.render.blocks import MAX_BLOCKS, fit_blocks, section
from emulator.limits import Limits
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN

CHANNEL = "C0GENERAL"


async def test_client_waits_out_a_429_and_succeeds(emulator: RunningEmulator) -> None:
    emulator.state.configure_limits(Limits(post_message_burst=1))
    # The second post lands inside the emulator's limit and gets a 429.
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url)
    await client.chat_postMessage(channel=CHANNEL, text="first")
    started = time.monotonic()
    response = await client.chat_postMessage(channel=CHANNEL, text="second")
    assert response["ok"] is True
    assert time.monotonic() - started >= 0.9  # it slept for Retry-After
    outcomes = [(c.status, c.error) for c in emulator.state.calls_to("chat.postMessage")]
    assert (429, "ratelimited") in outcomes
    assert outcomes[-1] == (200, None)


async def test_the_outbox_client_never_repeats_a_request_itself(
    emulator: RunningEmulator,
) -> None:
    """A repeated post could post twice; the outbox decides, after looking in Slack."""
    emulator.state.faults.fail_next("chat.postMessage", count=1, status=503)
    client = make_outbox_client(BOT_TOKEN, emulator.url)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=CHANNEL, text="once")
    emulator.state.configure_limits(Limits(post_message_burst=1))
    await client.chat_postMessage(channel=CHANNEL, text="first")
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=CHANNEL, text="second")
    assert limited.value.response.status_code == 429
    statuses = [c.status for c in emulator.state.calls_to("chat.postMessage")]
    assert statuses == [503, 200, 429]


async def test_client_retries_server_errors(emulator: RunningEmulator) -> None:
    emulator.state.faults.fail_next("chat.postMessage", count=2, status=503)
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url)
    response = await client.chat_postMessage(channel=CHANNEL, text="after two 503s")
    assert response["ok"] is True
    statuses = [c.status for c in emulator.state.calls_to("chat.postMessage")]
    assert statuses == [503, 503, 200]


def test_block_guard_keeps_messages_within_slacks_limit() -> None:
    blocks = [section(f"line {i}") for i in range(70)]
    fitted = fit_blocks(blocks)
    assert len(fitted) == MAX_BLOCKS
    assert "21 more blocks" in str(fitted[-1].to_dict())
    assert fit_blocks(blocks[:10]) == blocks[:10]


@pytest.mark.parametrize("length", [2999, 3000, 3001, 10_000])
def test_section_text_is_clipped_to_slacks_limit(length: int) -> None:
    block = section("x" * length).to_dict()
    assert len(block["text"]["text"]) <= 3000
