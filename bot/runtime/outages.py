"""Failures that are conditions, not bugs: a dependency that is down or not configured, or
Slack refusing a call.

They are logged as one line with the reason; a traceback is kept for what is unexpected.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.sources.base import MetricsUnavailable
from bot.store.base import StoreUnavailable

DEPENDENCY_DOWN: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    MetricsUnavailable,
    TimeoutError,
    aiohttp.ClientConnectionError,
    SlackApiError,
)


def reason(error: BaseException) -> str:
    """What went wrong, in words that carry nothing of the request: Slack's error code only,
    since its full answer can quote what was sent."""
    if isinstance(error, SlackApiError):
        return f"Slack refused the call: {error.response.get('error', 'unknown error')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
