"""Slash commands: one module each, registered in `COMMANDS`.

Each module exposes `register(app, deps)` which attaches its listener to the Bolt app.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.async_app import AsyncApp

from bot.slack.commands import triage
from bot.slack.deps import Deps

Registrar = Callable[[AsyncApp, Deps], None]

COMMANDS: dict[str, Registrar] = {
    "/triage": triage.register,
}


def register_commands(app: AsyncApp, deps: Deps) -> None:
    for register in COMMANDS.values():
        register(app, deps)
