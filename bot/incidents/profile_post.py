"""Posting a profile's findings in the incident thread: a note, then a flame graph image.
Both carry ids derived from the run, so a repeated run posts neither twice."""

from __future__ import annotations

from typing import Protocol

from bot.incidents.model import Incident
from bot.profiling.evidence import ProfileEvidence
from bot.profiling.flame import flame_spec, render_flame_async
from bot.slack.render.profile import profile_note


class ProfileThread(Protocol):
    async def note(self, incident: Incident, text: str, *, once_as: str | None = None) -> None: ...

    async def attach_chart(
        self, incident: Incident, chart_id: str, filename: str, title: str, png: bytes
    ) -> None: ...


async def post_profile(
    thread: ProfileThread, incident: Incident, run: str, evidence: ProfileEvidence | None
) -> None:
    if evidence is None:
        return
    await thread.note(incident, profile_note(evidence), once_as=f"profile:{run}")
    spec = flame_spec(evidence)
    if spec is None:
        return
    png = await render_flame_async(spec)
    filename = f"{incident.id}-{evidence.kind}-flame.png"
    await thread.attach_chart(
        incident, f"{run}:flame", filename=filename, title=spec.title, png=png
    )
