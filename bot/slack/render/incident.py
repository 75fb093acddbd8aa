"""Block Kit for an incident's root message: what is wrong, how bad, who has it, and buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
)

from bot.incidents.model import Incident
from bot.slack.render.blocks import Message, context, message, section
from bot.slack.render.text import code, escape, link, mention

STATUS_MARK = {
    "triggered": ":red_circle:",
    "acknowledged": ":large_orange_circle:",
    "resolved": ":large_green_circle:",
}

ACTION_ACK = "incident_ack"
ACTION_RERUN = "incident_rerun_triage"
ACTION_SILENCE = "incident_silence_1h"
ACTION_RESOLVE = "incident_resolve"
ACTION_PROFILE = "incident_profile_now"


def root_text(incident: Incident) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    where = incident.service or "an unmapped service"
    return escape(f"[{incident.status}] {incident.alertname} on {where} ({incident.severity})")


def root_message(incident: Incident) -> Message:
    """The incident's root message as it should read now."""
    return message(root_text(incident), root_blocks(incident))


def root_blocks(incident: Incident) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=f"{incident.alertname} · {incident.service or 'unmapped'}"[:150]),
        section(_status_line(incident)),
    ]
    if incident.summary:
        blocks.append(section(escape(incident.summary)))
    blocks.append(context(_facts_line(incident)))
    if incident.is_open:
        blocks.append(_buttons(incident))
    return blocks


def _status_line(incident: Incident) -> str:
    mark = STATUS_MARK[incident.status]
    line = f"{mark} *{incident.status.capitalize()}* · severity *{escape(incident.severity)}*"
    if incident.acknowledged_by:
        line += f" · acknowledged by {mention(incident.acknowledged_by)}"
    if incident.resolved_by:
        who = (
            "its alerts clearing"
            if incident.resolved_by == "alerts"
            else mention(incident.resolved_by)
        )
        line += f" · resolved by {who}"
    if incident.diagnosis:
        line += "\n" + _diagnosis_line(incident.diagnosis)
    return line


def _diagnosis_line(cause: str) -> str:
    if cause == "healthy":
        return "Triage: every checked signal was within its thresholds (see the thread)"
    if cause == "insufficient_data":
        return "Triage: not enough data to name a cause (see the thread)"
    return f"Likely cause: *{escape(cause.replace('_', ' '))}*"


def _facts_line(incident: Incident) -> str:
    facts = [
        f"Incident {code(incident.id)}",
        f"opened <!date^{int(incident.opened_at.timestamp())}^{{date_short_pretty}} {{time}}|"
        f"{incident.opened_at:%Y-%m-%d %H:%M} UTC>",
        f"{incident.firing_count} alert(s) firing, {incident.alerts_received} received",
    ]
    if incident.reopened_count:
        facts.append(f"reopened {incident.reopened_count}×")
    facts += link_facts(incident.links)
    return " · ".join(facts)


def link_facts(links: dict[str, str], most: int = 3) -> list[str]:
    """The alert's http(s) links, each named by its kind and shown by its host."""
    shown = ((name, link(url)) for name, url in sorted(links.items()))
    return [f"{escape(name)} {target}" for name, target in shown if target][:most]


def incident_buttons(incident: Incident) -> ActionsBlock:
    """The same buttons as on the root message, for other surfaces (App Home, `/incident show`)."""
    return _buttons(incident)


def _buttons(incident: Incident) -> ActionsBlock:
    value = incident.id
    elements = []
    if incident.status == "triggered":
        elements.append(
            ButtonElement(text="Acknowledge", action_id=ACTION_ACK, value=value, style="primary")
        )
    elements += [
        ButtonElement(text="Re-run triage", action_id=ACTION_RERUN, value=value),
        ButtonElement(text="Profile now", action_id=ACTION_PROFILE, value=value),
        ButtonElement(text="Silence 1 h", action_id=ACTION_SILENCE, value=value),
        ButtonElement(
            text="Resolve",
            action_id=ACTION_RESOLVE,
            value=value,
            confirm=ConfirmObject(
                title="Resolve this incident?",
                text="Alerts that still fire will reopen it.",
                confirm="Resolve",
                deny="Cancel",
            ),
        ),
    ]
    return ActionsBlock(block_id=f"incident:{incident.id}", elements=elements)
