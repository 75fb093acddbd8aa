"""What every slash command shares: argument checks that need no network, the answer shapes,
and running the slow part as a tracked background task after the acknowledgement.

The listener built by `bot.slack.commands.base` uses them: it validates the words,
acknowledges at once (Slack gives it 3 s), then hands everything that touches the network
(store, Prometheus, Slack) to `after_ack`.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.catalog import Service
from bot.slack.deps import Deps
from bot.slack.render.text import code, escape
from bot.triage.window import WindowError, parse_window

HELP_WORDS = frozenset({"help", "-h", "--help", "?"})
INCIDENT_ID = re.compile(r"\d{6}-[0-9a-f]{6}\Z")
MAX_NOTE_CHARS = 1000


class Invalid(Exception):
    """Arguments that cannot be used; the message tells the person what to type instead."""


@dataclass(frozen=True)
class Invocation:
    command: str
    user: str
    channel: str
    words: tuple[str, ...]
    text: str
    respond: AsyncRespond

    @property
    def wants_help(self) -> bool:
        return not self.words or self.words[0].lower() in HELP_WORDS


def invocation(name: str, command: dict[str, Any], respond: AsyncRespond) -> Invocation:
    text = str(command.get("text") or "").strip()
    return Invocation(
        command=name,
        user=str(command.get("user_id") or ""),
        channel=str(command.get("channel_id") or ""),
        words=tuple(text.split()),
        text=text,
        respond=respond,
    )


async def answer(ack: AsyncAck, text: str) -> None:
    """The acknowledgement itself, shown only to the person who typed the command."""
    await ack(response_type="ephemeral", text=text)


async def tell(
    respond: AsyncRespond, text: str, blocks: Sequence[dict[str, Any]] | None = None
) -> None:
    """A later reply only the caller sees."""
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def after_ack(deps: Deps, call: Invocation, work: Coroutine[Any, Any, None], what: str) -> None:
    """Run `work` in the background; if it fails, the caller hears so instead of silence."""

    async def report(error: BaseException) -> None:
        await tell(call.respond, f":x: {escape(what)} could not finish ({type(error).__name__}).")

    name = f"{call.command.lstrip('/')}-{call.user}-{time.monotonic_ns()}"
    deps.tasks.spawn(work, name=name, on_failure=report)


def known_service(deps: Deps, name: str, usage: str) -> Service:
    service = deps.catalog.get(name.lower())
    if service is not None:
        return service
    closest = deps.catalog.closest(name.lower())
    if closest:
        hint = "Did you mean " + " or ".join(code(n) for n in closest) + "?"
    else:
        known = ", ".join(code(n) for n in sorted(deps.catalog.services)[:10])
        hint = f"Known services: {known}." if known else "The service catalog is empty."
    raise Invalid(f"{_shown(name)} is not in the service catalog. {hint}\n\n{usage}")


def checked_window(text: str, usage: str) -> str:
    try:
        return parse_window(text, end=time.time()).text
    except WindowError as error:
        raise Invalid(f"{escape(str(error))}.\n\n{usage}") from None


def window_seconds(text: str) -> int:
    return parse_window(text, end=time.time()).seconds


def incident_id(text: str, usage: str) -> str:
    if INCIDENT_ID.match(text.lower()):
        return text.lower()
    raise Invalid(
        f"{_shown(text)} is not an incident id: ids look like `261102-a1b2c3` "
        f"(`/incident list` shows them).\n\n{usage}"
    )


def unknown_subcommand(word: str, valid: Sequence[str], usage: str) -> Invalid:
    choices = ", ".join(code(v) for v in valid)
    close = difflib.get_close_matches(word.lower(), valid, n=1)
    hint = f" Did you mean {code(close[0])}?" if close else ""
    return Invalid(f"{_shown(word)} is not a subcommand; use one of {choices}.{hint}\n\n{usage}")


def _shown(word: str) -> str:
    """What the person typed, echoed inertly (and briefly) in an error."""
    return code(word, limit=40)


async def authorized(deps: Deps, call: Invocation, action: str, owners: str | None) -> bool:
    """Check the catalog's rule for `action`; tell the caller who may when refused."""
    decision = await deps.permissions.check(call.user, action, owners)
    if not decision.allowed:
        await tell(call.respond, f":no_entry: Only {decision.who_may} can do that.")
    return decision.allowed
