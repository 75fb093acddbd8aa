"""Slash commands: one module each, registered in `COMMANDS`.

A command module holds its own logic and one `COMMAND = SlashCommand(name, usage, accept)`:
`accept` checks the words without touching the network (raising `Invalid` with a hint) and
returns the acknowledgement and the work; `bot.slack.commands.base` builds the listener that
answers `help`, acknowledges within Slack's 3 s and runs the work after it. Adding a command
is that module plus one line below (and its entry in the app manifest, which a test checks).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.commands import digest, health, incident, slo, triage
from bot.slack.commands.base import SlashCommand
from bot.slack.deps import Deps

COMMANDS: dict[str, SlashCommand] = {
    command.name: command
    for command in (
        triage.COMMAND,
        health.COMMAND,
        slo.COMMAND,
        incident.COMMAND,
        digest.COMMAND,
    )
}


def register_commands(app: AsyncApp, deps: Deps) -> None:
    for command in COMMANDS.values():
        command.register(app, deps)
