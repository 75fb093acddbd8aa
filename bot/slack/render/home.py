"""Block Kit for the App Home tab: open incidents with their buttons, then each service's
latest health mark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.incidents.model import Incident
from bot.models import Status
from bot.slack.render.blocks import MAX_SECTION_TEXT, context, section, to_payload
from bot.slack.render.incident import STATUS_MARK, incident_buttons
from bot.slack.render.text import code, escape, mention
from bot.slack.render.triage import STEP_MARK


@dataclass(frozen=True)
class HealthMark:
    """The latest health judgement of a service (from `/health` or a triage)."""

    status: Status
    note: str
    at: float  # unix seconds


def home_view(
    incidents: Sequence[Incident],
    services: Sequence[str],
    marks: Mapping[str, HealthMark],
    now: datetime,
    notice: str | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = []
    if notice:  # already mrkdwn: rendered by the bot for the person who pressed a button
        blocks.append(section(f":information_source: {notice}"))
    blocks.append(HeaderBlock(text=f"Open incidents ({len(incidents)})"))
    if not incidents:
        blocks.append(section("Nothing is open. :tada:"))
    for incident in incidents:
        blocks += incident_entry(incident, now)
    blocks += [DividerBlock(), HeaderBlock(text="Services")]
    lines = [service_line(name, marks.get(name), now) for name in services]
    blocks += sections(lines) or [section("The service catalog lists no services.")]
    blocks.append(context(f"Updated {now:%Y-%m-%d %H:%M} UTC · `/health SERVICE` checks one now"))
    return View(type="home", blocks=to_payload(blocks)).to_dict()


def incident_entry(incident: Incident, now: datetime) -> list[Block]:
    mark = STATUS_MARK[incident.status]
    service = incident.service or "unmapped"
    text = (
        f"{mark} *{escape(incident.alertname)}* · {code(service)} · {incident.status}"
        f" · severity {escape(incident.severity)}\n"
        f"Incident {code(incident.id)}, open for {age(now, incident.opened_at)}"
    )
    if incident.acknowledged_by:
        text += f" · acknowledged by {mention(incident.acknowledged_by)}"
    return [section(text), incident_buttons(incident)]


def service_line(name: str, mark: HealthMark | None, now: datetime) -> str:
    if mark is None:
        return f"{STEP_MARK['unknown']} *{escape(name)}*: not checked lately"
    seconds = max(0.0, now.timestamp() - mark.at)
    return f"{STEP_MARK[mark.status]} *{escape(name)}*: {escape(mark.note)} ({span(seconds)} ago)"


def age(now: datetime, since: datetime) -> str:
    return span(max(0.0, (now - since).total_seconds()))


def span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"


def sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into as few sections as Slack's text limit allows."""
    texts: list[str] = []
    for line in lines:
        if texts and len(texts[-1]) + 1 + len(line) <= MAX_SECTION_TEXT:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return [section(text) for text in texts]
