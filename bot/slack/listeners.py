"""Everything the Bolt app listens to: slash commands, buttons and events."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import actions
from bot.slack.commands import register_commands
from bot.slack.deps import Deps


def register_listeners(app: AsyncApp, deps: Deps) -> None:
    register_commands(app, deps)
    actions.register(app, deps)
