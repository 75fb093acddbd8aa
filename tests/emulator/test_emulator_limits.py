"""Rate limits: one postMessage per second per channel with a short burst, and method tiers."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from emulator import Limits
from emulator.limits import RateLimited, RateLimiter, TokenBucket
from tests.emulator.conftest import TOKEN, StartEmulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills() -> None:
    bucket = TokenBucket(capacity=2, rate=1.0, now=0.0)
    assert bucket.take(0.0) == 0
    assert bucket.take(0.0) == 0
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(0.5) == pytest.approx(0.5)
    assert bucket.take(1.0) == 0


def test_post_message_limit_is_per_channel() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(post_message_burst=1), clock)
    limiter.check_post_message("C1")
    limiter.check_post_message("C2")
    with pytest.raises(RateLimited) as raised:
        limiter.check_post_message("C1")
    assert raised.value.retry_after == 1
    clock.now += 1.0
    limiter.check_post_message("C1")


def test_tiers_follow_slacks_per_minute_numbers() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(), clock)
    for _ in range(20):  # usergroups.users.list is Tier 2: 20 per minute
        limiter.check_method("usergroups.users.list")
    with pytest.raises(RateLimited) as raised:
        limiter.check_method("usergroups.users.list")
    assert raised.value.retry_after == 3  # one token back every 60/20 seconds
    limiter.check_method("users.info")  # another method, another bucket


async def test_burst_over_the_channel_limit_gets_429_with_retry_after(
    start: StartEmulator,
) -> None:
    emulator = await start(Limits(post_message_burst=2))
    client = AsyncWebClient(token=TOKEN, base_url=emulator.url)
    await client.chat_postMessage(channel="C0GENERAL", text="1")
    await client.chat_postMessage(channel="C0GENERAL", text="2")
    await client.chat_postMessage(channel="C0INCIDENTS", text="other channel")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0GENERAL", text="3")
    response = raised.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "1"
    assert len(emulator.state.channel_messages("C0GENERAL")) == 2
    assert emulator.state.most_calls_within("chat.postMessage", 1.0, channel="C0GENERAL") == 2


async def test_retry_handler_recovers_from_the_429(start: StartEmulator) -> None:
    emulator = await start(Limits(post_message_burst=1))
    client = AsyncWebClient(token=TOKEN, base_url=emulator.url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    await client.chat_postMessage(channel="C0GENERAL", text="first")
    started = time.monotonic()
    second = await client.chat_postMessage(channel="C0GENERAL", text="second")
    assert second["ok"] is True
    assert time.monotonic() - started >= 0.9  # it waited out Retry-After
    statuses = [c.status for c in emulator.state.calls_to("chat.postMessage")]
    assert statuses == [200, 429, 200]
    assert emulator.state.most_calls_within("chat.postMessage", 0.9, channel="C0GENERAL") == 1


async def test_tier_limits_can_be_tightened_for_a_test(start: StartEmulator) -> None:
    emulator = await start(Limits(method_per_minute={"users.info": 2}))
    client = AsyncWebClient(token=TOKEN, base_url=emulator.url)
    await client.users_info(user="U0ALICE")
    await client.users_info(user="U0ALICE")
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0ALICE")
    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"]) == 30


async def test_limits_can_be_swapped_on_a_running_emulator(start: StartEmulator) -> None:
    emulator = await start()
    emulator.state.configure_limits(Limits(rate_limits_enabled=False))
    client = AsyncWebClient(token=TOKEN, base_url=emulator.url)
    for index in range(5):
        await client.chat_postMessage(channel="C0GENERAL", text=str(index))
    assert len(emulator.state.channel_messages("C0GENERAL")) == 5
