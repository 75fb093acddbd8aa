"""The shape every slash command has, written once: a command module declares its name, its
usage and how it accepts its words; the listener around it is built here.

    def accept(deps: Deps, call: Invocation) -> Accepted:
        service = known_service(deps, call.words[0], USAGE)     # raises Invalid, no network
        return Accepted(f"Looking at {code(service.name)}…", f"/x of {service.name}",
                        lambda: look(deps, call, service))

    COMMAND = SlashCommand("/x", USAGE, accept)

The listener answers `help` (and empty input) with the usage, answers `Invalid` with its
message (typo hints come from `known_service`, `unknown_subcommand`...), acknowledges at once
(Slack gives it 3 s), and only then starts the work as a tracked background task
(`after_ack`), so nothing that touches the network runs before the acknowledgement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.commands.common import Invalid, Invocation, after_ack, answer, invocation
from bot.slack.deps import Deps


@dataclass(frozen=True)
class Accepted:
    """Words a command can act on: what to acknowledge with (None: a silent acknowledgement),
    what the work is called if it fails, and the work itself."""

    ack_text: str | None
    what: str
    work: Callable[[], Awaitable[None]]


Accept = Callable[[Deps, Invocation], Accepted]


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str
    accept: Accept

    def listener(self, deps: Deps) -> Callable[..., Awaitable[None]]:
        async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
            call = invocation(self.name, command, respond)
            if call.wants_help:
                await answer(ack, self.usage)
                return
            try:
                accepted = self.accept(deps, call)
            except Invalid as problem:
                await answer(ack, str(problem))
                return
            if accepted.ack_text is None:
                await ack()
            else:
                await answer(ack, accepted.ack_text)
            after_ack(deps, call, _run(accepted.work), accepted.what)

        return on_command

    def register(self, app: AsyncApp, deps: Deps) -> None:
        app.command(self.name)(self.listener(deps))


async def _run(work: Callable[[], Awaitable[None]]) -> None:
    await work()
