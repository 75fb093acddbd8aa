"""Slash commands: one module each, registered in `COMMANDS`.

Each module exposes `register(app, deps)` which attaches its listener to the Bolt app, answers
`help`, validates its arguments without touching the network and acknowledges at once; slow
work then runs as a tracked background task (see `bot.slack.commands.common`).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.async_app import AsyncApp

from bot.slack.commands import digest, health, incident, slo, triage
from bot.slack.deps import Deps

Registrar = Callable[[AsyncApp, Deps], None]

COMMANDS: dict[str, Registrar] = {
    "/triage": triage.register,
    "/health": health.register,
    "/slo": slo.register,
    "/incident": incident.register,
    "/digest": digest.register,
}


def register_commands(app: AsyncApp, deps: Deps) -> None:
    for register in COMMANDS.values():
        register(app, deps)
