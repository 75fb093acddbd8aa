from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from bot.slack.blocks import MAX_BLOCKS, fit_blocks, section
from bot.slack.client import BotWebClient, ChannelPacer
from emulator.limits import Limits
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN

CHANNEL = "C0GENERAL"


async def test_client_waits_out_a_429_and_succeeds(emulator: RunningEmulator) -> None:
    emulator.state.configure_limits(Limits(post_message_burst=1))
    # No pacing: the second post lands inside the emulator's limit and gets a 429.
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url, pacer=ChannelPacer(interval=0))
    await client.chat_postMessage(channel=CHANNEL, text="first")
    started = time.monotonic()
    response = await client.chat_postMessage(channel=CHANNEL, text="second")
    assert response["ok"] is True
    assert time.monotonic() - started >= 0.9  # it slept for Retry-After
    outcomes = [(c.status, c.error) for c in emulator.state.calls_to("chat.postMessage")]
    assert (429, "ratelimited") in outcomes
    assert outcomes[-1] == (200, None)


async def test_client_never_posts_more_than_once_a_second_per_channel(
    emulator: RunningEmulator,
) -> None:
    emulator.state.add_channel("C0OTHER", "other")
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url)
    posts = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}") for i in range(4)]
    posts += [client.chat_postMessage(channel="C0OTHER", text=f"o{i}") for i in range(2)]
    started = time.monotonic()
    await asyncio.gather(*posts)
    elapsed = time.monotonic() - started
    calls = emulator.state.calls_to("chat.postMessage", channel=CHANNEL)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(calls)]
    assert len(calls) == 4
    assert all(c.status == 200 for c in calls)
    assert min(gaps) >= 0.95
    assert elapsed < 4.5  # the other channel was not held up behind this one


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
