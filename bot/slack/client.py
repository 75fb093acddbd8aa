"""The bot's Slack Web API clients, counting every call by method and outcome.

Two flavours: the interactive client (listeners, App Home) retries 429s, 5xx and dropped
connections itself; the outbox's client retries nothing, because a repeated post could post
twice: the outbox looks a doubtful write up in Slack before trying it again, and paces each
channel for every replica (`bot.outbox.pace`).
"""

from __future__ import annotations

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

REQUEST_TIMEOUT_SECONDS = 15
# Also how long another replica's write may still be in flight (see bot.outbox.writes).
OUTBOX_REQUEST_TIMEOUT_SECONDS = 10


def default_retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        AsyncServerErrorRetryHandler(max_retry_count=3),
        AsyncConnectionErrorRetryHandler(max_retry_count=3),
    ]


class BotWebClient(AsyncWebClient):
    """`AsyncWebClient` that counts every call by method and outcome."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("retry_handlers", default_retry_handlers())
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        super().__init__(**kwargs)

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
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


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error") or "error")
    except AttributeError:
        return "error"


def make_client(token: str, base_url: str) -> BotWebClient:
    return BotWebClient(token=token, base_url=base_url)


def make_outbox_client(token: str, base_url: str) -> BotWebClient:
    """A client that never repeats a request on its own (see the module docstring)."""
    return BotWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[],
        timeout=OUTBOX_REQUEST_TIMEOUT_SECONDS,
    )
