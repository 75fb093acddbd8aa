"""Block Kit for `/incident list` and `/incident show ID`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.incidents.model import Incident, TimelineEntry
from bot.slack.render.blocks import Message, context, message, section
from bot.slack.render.home import age, sections
from bot.slack.render.incident import STATUS_MARK, root_blocks
from bot.slack.render.text import code, escape, mention

MAX_LISTED = 30
MAX_TIMELINE = 12


def incident_line(incident: Incident, now: datetime) -> str:
    return (
        f"{STATUS_MARK[incident.status]} {code(incident.id)} · *{escape(incident.alertname)}* · "
        f"{code(incident.service or 'unmapped')} · {incident.status} · "
        f"open for {age(now, incident.opened_at)}"
    )


def list_text(incidents: Sequence[Incident], now: datetime, most: int = 10) -> str:
    """The `text` fallback of `/incident list`."""
    return "\n".join(incident_line(i, now) for i in incidents[:most]) or "No incident is open."


def list_message(incidents: Sequence[Incident], now: datetime) -> Message:
    return message(list_text(incidents, now), list_blocks(incidents, now))


def detail_message(incident: Incident, timeline: Sequence[TimelineEntry], now: datetime) -> Message:
    return message(incident_line(incident, now), detail_blocks(incident, timeline))


def list_blocks(incidents: Sequence[Incident], now: datetime) -> list[Block]:
    if not incidents:
        return [section("No incident is open. :tada:")]
    shown = incidents[:MAX_LISTED]
    blocks: list[Block] = [section(f"*Open incidents ({len(incidents)})*")]
    blocks += sections([incident_line(incident, now) for incident in shown])
    if len(incidents) > len(shown):
        blocks.append(context(f"{len(incidents) - len(shown)} more not shown."))
    blocks.append(context("`/incident show ID` for one incident's details and timeline."))
    return blocks


def detail_blocks(incident: Incident, timeline: Sequence[TimelineEntry]) -> list[Block]:
    blocks = root_blocks(incident)
    recent = list(timeline)[-MAX_TIMELINE:]
    if recent:
        lines = [f"`{e.at:%m-%d %H:%M}` {_who(e.who)} {escape(e.what)}" for e in recent]
        skipped = len(timeline) - len(recent)
        heading = "*Timeline*" + (f" (last {len(recent)} of {len(timeline)})" if skipped else "")
        blocks += sections([heading, *lines])
    return blocks


def _who(who: str) -> str:
    return "alerts:" if who == "alerts" else f"{mention(who)}:"
