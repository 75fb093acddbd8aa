"""Buttons on an incident's root message: acknowledge, re-run triage, profile now, silence 1 h,
resolve."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from slack_bolt.async_app import AsyncRespond

from bot.incidents.model import Incident
from bot.incidents.profile_post import post_profile
from bot.profiling.evidence import ProfileKind
from bot.slack.deps import Deps
from bot.slack.render import notes
from bot.slack.render.incident import (
    ACTION_ACK,
    ACTION_PROFILE,
    ACTION_RERUN,
    ACTION_RESOLVE,
    ACTION_SILENCE,
)
from bot.slack.render.text import escape
from bot.sources.alertmanager import AlertmanagerError
from bot.sources.base import MetricsUnavailable

log = structlog.get_logger(__name__)

SILENCE_DURATION = timedelta(hours=1)
IncidentAction = Callable[[Deps, Incident, str, AsyncRespond], Awaitable[None]]


async def acknowledge(deps: Deps, incident: Incident, user: str, respond: AsyncRespond) -> None:
    await deps.incidents.acknowledge(incident.id, user)


async def resolve(deps: Deps, incident: Incident, user: str, respond: AsyncRespond) -> None:
    await deps.incidents.resolve(incident.id, user)


async def rerun_triage(deps: Deps, incident: Incident, user: str, respond: AsyncRespond) -> None:
    await deps.incidents.note(incident.id, user, "asked for a fresh triage")
    await deps.triage.start(incident, again=True)


async def profile_now(deps: Deps, incident: Incident, user: str, respond: AsyncRespond) -> None:
    """A heap profile when the diagnosis is a leak, else a CPU profile, posted in the thread."""
    if incident.service is None:
        await _tell(respond, "This incident names no service in the catalog: nothing to profile.")
        return
    kind: ProfileKind = "heap" if incident.diagnosis == "heap_leak" else "cpu"
    await deps.incidents.note(incident.id, user, f"asked for a {kind} profile")
    try:
        evidence = await deps.runner.profile_now(incident.service, kind)
    except MetricsUnavailable as error:
        await _tell(respond, f"No profile could be taken: {escape(str(error))}")
        return
    await post_profile(deps.incidents.thread, incident, uuid.uuid4().hex[:12], evidence)


async def silence(deps: Deps, incident: Incident, user: str, respond: AsyncRespond) -> None:
    if deps.alertmanager is None:
        await _tell(respond, "Silencing needs Alertmanager: set ALERTMANAGER_URL for the bot.")
        return
    try:
        silence_id = await deps.alertmanager.create_silence(
            incident.matchers,
            duration=SILENCE_DURATION,
            created_by=f"slack:{user}",
            comment=f"Silenced from Slack for incident {incident.id}",
        )
    except AlertmanagerError as error:
        await _tell(respond, f"The silence could not be created: {escape(str(error))}")
        return
    await deps.incidents.tell_thread(
        incident, notes.person_silenced(user, silence_id, SILENCE_DURATION.total_seconds() / 3600)
    )


ACTIONS: dict[str, IncidentAction] = {
    ACTION_ACK: acknowledge,
    ACTION_RERUN: rerun_triage,
    ACTION_PROFILE: profile_now,
    ACTION_SILENCE: silence,
    ACTION_RESOLVE: resolve,
}


async def _tell(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
