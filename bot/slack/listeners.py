"""Everything the Bolt app listens to: slash commands, buttons and the App Home tab.

Slack retries an event it thinks went unanswered; a global middleware claims each `event_id`
once in the store so a retry (to this replica or another) is acknowledged and dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.slack.commands import register_commands
from bot.slack.commands.buttons import register_buttons
from bot.slack.deps import Deps
from bot.slack.ids import EVENT_ID, loggable
from bot.store import keys
from bot.store.base import StoreUnavailable
from bot.store.keys import IDEMPOTENCY_TTL_SECONDS

log = structlog.get_logger(__name__)


def register_listeners(app: AsyncApp, deps: Deps) -> None:
    app.middleware(_once_per_event(deps))
    register_commands(app, deps)
    register_buttons(app, deps)
    app.event("app_home_opened")(_home_opened(deps))


def _once_per_event(deps: Deps) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def once_per_event(
        body: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await deps.store.claim_once(
            keys.slack_event(str(event_id)), IDEMPOTENCY_TTL_SECONDS
        ):
            log.info("dropped a repeated Slack event", event_id=loggable(event_id, EVENT_ID))
            return BoltResponse(status=200, body="")
        return await next()

    return once_per_event


def _home_opened(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        deps.tasks.spawn(_publish(deps, user), name=f"home-{user}")

    return on_home_opened


async def _publish(deps: Deps, user: str) -> None:
    try:
        await deps.home.opened_by(user)
        await deps.home.publish(user)
    except (SlackApiError, StoreUnavailable, TimeoutError) as error:
        log.warning("could not publish App Home", user=loggable(user), error=type(error).__name__)
