"""The bot's Slack Web API client: retries on 429, 5xx and connection errors; pacing; metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.telemetry import SLACK_API_CALLS

POST_INTERVAL_SECONDS = 1.0
_PACED_METHODS = frozenset({"chat.postMessage"})


class ChannelPacer:
    """Spaces posts to one channel `interval` seconds apart (Slack allows about one a second)."""

    def __init__(self, interval: float = POST_INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._next_slot: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait_turn(self, channel: str) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(channel, 0.0))
            self._next_slot[channel] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


def default_retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        AsyncServerErrorRetryHandler(max_retry_count=3),
        AsyncConnectionErrorRetryHandler(max_retry_count=3),
    ]


class BotWebClient(AsyncWebClient):
    """`AsyncWebClient` that paces channel posts and counts every call by method and outcome."""

    def __init__(self, *, pacer: ChannelPacer | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("retry_handlers", default_retry_handlers())
        kwargs.setdefault("timeout", 15)
        super().__init__(**kwargs)
        self.pacer = pacer or ChannelPacer()

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        if api_method in _PACED_METHODS:
            channel = _channel_of(kwargs)
            if channel:
                await self.pacer.wait_turn(channel)
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            SLACK_API_CALLS.labels(method=api_method, outcome=_error_code(error)).inc()
            raise
        except Exception:
            SLACK_API_CALLS.labels(method=api_method, outcome="transport_error").inc()
            raise
        SLACK_API_CALLS.labels(method=api_method, outcome="ok").inc()
        return response


def _channel_of(kwargs: dict[str, Any]) -> str | None:
    for part in ("json", "params", "data"):
        values = kwargs.get(part)
        if isinstance(values, dict) and values.get("channel"):
            return str(values["channel"])
    return None


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error") or "error")
    except AttributeError:
        return "error"


def make_client(token: str, base_url: str) -> BotWebClient:
    return BotWebClient(token=token, base_url=base_url)
