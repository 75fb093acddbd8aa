"""`/incident list | show ID | ack ID | resolve ID | note ID TEXT`: the incident buttons as a
command, under the same permissions, recorded in the timeline and mirrored in the thread."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.incidents.model import Incident
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.buttons import owners_of
from bot.slack.commands.common import (
    MAX_NOTE_CHARS,
    Invalid,
    Invocation,
    authorized,
    incident_id,
    tell,
    unknown_subcommand,
)
from bot.slack.deps import Deps
from bot.slack.render.incident_list import detail_message, list_message
from bot.slack.render.text import code, escape, mention

USAGE = "\n".join(
    [
        "*`/incident`* works on incidents without leaving the keyboard:",
        "• `/incident list`: open incidents",
        "• `/incident show ID`: one incident, its buttons and its timeline",
        "• `/incident ack ID`, `/incident resolve ID`: as the buttons do",
        "• `/incident note ID TEXT`: add a note to the timeline and the thread",
        "",
        "Ids look like `261102-a1b2c3`. Examples: `/incident ack 261102-a1b2c3`,",
        "`/incident note 261102-a1b2c3 rolled back to v1.4.2`",
    ]
)
SUBCOMMANDS = ("list", "show", "ack", "resolve", "note", "help")

Work = Callable[[Deps, Invocation, str], Coroutine[Any, Any, None]]


def accept(deps: Deps, call: Invocation) -> Accepted:
    work, target = parse(call)
    return Accepted(None, f"/incident {call.words[0].lower()}", lambda: work(deps, call, target))


def parse(call: Invocation) -> tuple[Work, str]:
    verb, args = call.words[0].lower(), call.words[1:]
    if verb == "list":
        if args:
            raise Invalid(f"`/incident list` takes no arguments.\n\n{USAGE}")
        return list_open, ""
    if verb not in WORK:
        raise unknown_subcommand(verb, SUBCOMMANDS, USAGE)
    if not args:
        raise Invalid(f"`/incident {verb}` needs an incident id.\n\n{USAGE}")
    target = incident_id(args[0], USAGE)
    if verb == "note":
        if len(args) < 2:
            raise Invalid(f"`/incident note {target}` needs the note's text.\n\n{USAGE}")
        if len(note_text(call)) > MAX_NOTE_CHARS:
            raise Invalid(f"A note holds at most {MAX_NOTE_CHARS} characters.")
    elif len(args) > 1:
        raise Invalid(f"`/incident {verb}` takes one incident id.\n\n{USAGE}")
    return WORK[verb], target


def note_text(call: Invocation) -> str:
    """Everything after the id, spacing kept."""
    return call.text.split(maxsplit=2)[2].strip()


async def list_open(deps: Deps, call: Invocation, _target: str) -> None:
    if not await authorized(deps, call, "incident_list", None):
        return
    incidents = await deps.incidents.repository.open_incidents()
    listed = list_message(incidents, datetime.now(UTC))
    await tell(call.respond, listed.text, listed.blocks)


async def show(deps: Deps, call: Invocation, target: str) -> None:
    incident = await _found(deps, call, target)
    if incident is None or not await authorized(
        deps, call, "incident_show", owners_of(deps, incident)
    ):
        return
    timeline = await deps.incidents.repository.timeline(incident.id)
    shown = detail_message(incident, timeline, datetime.now(UTC))
    await tell(call.respond, shown.text, shown.blocks)


async def acknowledge(deps: Deps, call: Invocation, target: str) -> None:
    incident = await _found(deps, call, target)
    if incident is None or not await authorized(deps, call, "ack", owners_of(deps, incident)):
        return
    if incident.status != "triggered":
        await tell(call.respond, _unchanged(incident))
        return
    after = await deps.incidents.acknowledge(incident.id, call.user)
    await _report_change(deps, call, incident, after, "acknowledged")


async def resolve(deps: Deps, call: Invocation, target: str) -> None:
    incident = await _found(deps, call, target)
    if incident is None or not await authorized(deps, call, "resolve", owners_of(deps, incident)):
        return
    if incident.status == "resolved":
        await tell(call.respond, _unchanged(incident))
        return
    after = await deps.incidents.resolve(incident.id, call.user)
    await _report_change(deps, call, incident, after, "resolved")


async def note(deps: Deps, call: Invocation, target: str) -> None:
    incident = await _found(deps, call, target)
    if incident is None or not await authorized(
        deps, call, "incident_note", owners_of(deps, incident)
    ):
        return
    await deps.incidents.note(incident.id, call.user, note_text(call))
    await tell(call.respond, f"Noted on incident {code(incident.id)} (timeline and thread).")


WORK: dict[str, Work] = {"show": show, "ack": acknowledge, "resolve": resolve, "note": note}


async def _found(deps: Deps, call: Invocation, target: str) -> Incident | None:
    incident = await deps.incidents.repository.get(target)
    if incident is None:
        await tell(
            call.respond,
            f"No incident {code(target)} is known (resolved ones are kept 30 days). "
            "`/incident list` shows the open ones.",
        )
    return incident


async def _report_change(
    deps: Deps, call: Invocation, before: Incident, after: Incident | None, verb: str
) -> None:
    deps.home.incidents_changed()
    if after is None or after.status == before.status:
        await tell(call.respond, _unchanged(after or before))
        return
    await tell(call.respond, f"You {verb} incident {code(after.id)} ({escape(after.alertname)}).")


def _unchanged(incident: Incident) -> str:
    if incident.status == "resolved":
        resolver = incident.resolved_by
        by = f" by {mention(resolver)}" if resolver not in (None, "alerts") else ""
        return f"Incident {code(incident.id)} is already resolved{by}."
    by = f" by {mention(incident.acknowledged_by)}" if incident.acknowledged_by else ""
    return f"Incident {code(incident.id)} is already acknowledged{by}."


COMMAND = SlashCommand("/incident", USAGE, accept)
