"""The incident buttons (on the root message, in App Home and in `/incident show`), under the
same catalog permissions as the `/incident` subcommands.

The button actions themselves live in `bot.slack.actions`; this module decides who may press
them, runs them as tracked background work and refreshes App Home afterwards. A click in App
Home has no response_url, so what the clicker needs to know is shown at the top of their Home.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.webhook import WebhookResponse

from bot.incidents.model import Incident
from bot.slack.actions import ACTIONS, IncidentAction
from bot.slack.deps import Deps
from bot.slack.home import HomeTab
from bot.slack.render.incident import (
    ACTION_ACK,
    ACTION_PROFILE,
    ACTION_RERUN,
    ACTION_RESOLVE,
    ACTION_SILENCE,
)
from bot.store.base import StoreUnavailable

PERMISSION_OF = {
    ACTION_ACK: "ack",
    ACTION_RERUN: "rerun",
    ACTION_PROFILE: "rerun",  # a profile costs the service about what a re-run costs the bot
    ACTION_SILENCE: "silence",
    ACTION_RESOLVE: "resolve",
}


def owners_of(deps: Deps, incident: Incident) -> str | None:
    service = deps.catalog.get(incident.service) if incident.service else None
    return service.owners if service else None


def register_buttons(app: AsyncApp, deps: Deps) -> None:
    for action_id, action in ACTIONS.items():
        app.action(action_id)(_listener(deps, action_id, action))


def _listener(deps: Deps, action_id: str, action: IncidentAction) -> Callable[..., Awaitable[None]]:
    async def on_click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = str(body["user"]["id"])
        incident_id = str(body["actions"][0].get("value", ""))
        if respond.response_url is None:  # pressed in App Home
            with contextlib.suppress(StoreUnavailable):
                await deps.home.opened_by(user)
            respond = HomeNotice(deps.home, user)

        async def report(error: BaseException) -> None:
            await _tell(respond, f":x: That did not work ({type(error).__name__}).")

        work = press(deps, action_id, action, incident_id=incident_id, user=user, respond=respond)
        deps.tasks.spawn(work, name=f"{action_id}-{incident_id}", on_failure=report)

    return on_click


async def press(
    deps: Deps,
    action_id: str,
    action: IncidentAction,
    *,
    incident_id: str,
    user: str,
    respond: AsyncRespond,
) -> None:
    incident = await deps.incidents.repository.get(incident_id)
    if incident is None:
        await _tell(respond, "That incident is no longer known to the bot.")
        return
    decision = await deps.permissions.check(
        user, PERMISSION_OF.get(action_id, action_id), owners_of(deps, incident)
    )
    if not decision.allowed:
        await _tell(respond, f":no_entry: Only {decision.who_may} can do that for this incident.")
        return
    await action(deps, incident, user, respond)
    deps.home.incidents_changed()


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


class HomeNotice(AsyncRespond):
    """Answers a click in App Home by re-publishing the clicker's Home with a notice on top."""

    def __init__(self, home: HomeTab, user_id: str) -> None:
        super().__init__(response_url=None)
        self._home = home
        self._user_id = user_id

    async def __call__(  # type: ignore[override]
        self, text: str | dict[str, Any] = "", **_message: Any
    ) -> WebhookResponse:
        notice = text if isinstance(text, str) else str(text.get("text", ""))
        await self._home.publish(self._user_id, notice=notice or None)
        return WebhookResponse(url="app-home", status_code=200, body="", headers={})
