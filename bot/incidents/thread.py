"""What an incident shows in Slack, handed to the outbox: its root message, notes in its
thread, the triage checklist and charts. The one place incidents and triage reach Slack.

The root and the checklist are message slots: their content is rendered (by the render stage,
`bot.slack.render`) from the state the caller holds under the incident's lock, and the outbox
posts each once and edits it to the latest content. Notes and charts are posted once each, in
the root's thread.
"""

from __future__ import annotations

import base64
import uuid

from bot.incidents.model import Incident
from bot.models import TriageProgress
from bot.outbox.ops import Post, Upload
from bot.outbox.queue import Outbox
from bot.slack.render.incident import root_message
from bot.slack.render.triage import checklist_message

ROOT_LABEL = "the incident's root message"
CHECKLIST_LABEL = "the triage checklist"


def root_slot(incident_id: str) -> str:
    return f"incident:{incident_id}:root"


def checklist_slot(incident_id: str) -> str:
    return f"incident:{incident_id}:checklist"


def incident_of_root(op_id: str) -> str | None:
    """The incident whose root message `op_id` is, if it is one."""
    head, _, rest = op_id.partition(":")
    incident_id, _, tail = rest.rpartition(":")
    return incident_id if head == "incident" and tail == "root" and incident_id else None


class IncidentThread:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def show_root(self, incident: Incident) -> None:
        """Make the root message show `incident` as it is now (call under its lock)."""
        root = root_message(incident)
        await self._outbox.show(
            root_slot(incident.id), incident.slack.channel, root.text, root.blocks, label=ROOT_LABEL
        )

    async def note(self, incident: Incident, text: str, *, once_as: str | None = None) -> None:
        """Post `text` in the thread. `once_as` names a note that must appear at most once
        (e.g. "resolved:0"), however often the caller is retried; else every call posts."""
        note_id = once_as or uuid.uuid4().hex
        await self._outbox.send(
            Post(
                op_id=f"note:{incident.id}:{note_id}",
                channel=incident.slack.channel,
                text=text,
                thread=root_slot(incident.id),
                label="a thread note",
            )
        )

    async def show_checklist(self, incident: Incident, progress: TriageProgress) -> None:
        """Make the checklist in the thread show `progress` as it is now."""
        checklist = checklist_message(progress)
        await self._outbox.show(
            checklist_slot(incident.id),
            incident.slack.channel,
            checklist.text,
            checklist.blocks,
            thread=root_slot(incident.id),
            label=CHECKLIST_LABEL,
        )

    async def attach_chart(
        self, incident: Incident, chart_id: str, filename: str, title: str, png: bytes
    ) -> None:
        """Upload a chart into the thread once per `chart_id`."""
        await self._outbox.send(
            Upload(
                op_id=f"chart:{incident.id}:{chart_id}",
                channel=incident.slack.channel,
                thread=root_slot(incident.id),
                filename=filename,
                title=title,
                png_base64=base64.b64encode(png).decode("ascii"),
                label="a chart",
            )
        )
