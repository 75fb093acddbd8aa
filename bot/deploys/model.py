"""The deploy event CI sends, and how it is stored and shown.

    {"service": "checkout", "version": "1.5.0", "commit": "4f2a9c1",
     "link": "https://ci.example.com/runs/812", "who": "release-bot"}

`at` (unix seconds or an ISO 8601 time) defaults to when the bot received it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from bot.models import Change

ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Link = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>|]+$", max_length=500)]
Commit = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z._-]{1,64}$")]


class DeployEvent(BaseModel):
    """One deploy of one service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ServiceName
    version: Text
    commit: Commit | None = None
    link: Link | None = None
    who: Text | None = None
    at: AwareDatetime | None = Field(
        default=None, description="when it was deployed; defaults to when the bot received it"
    )

    def as_change(self, received_at: float) -> Change:
        at = self.at.timestamp() if self.at is not None else received_at
        detail = f"{self.service} {self.version}"
        if self.commit:
            detail += f" ({self.commit[:12]})"
        if self.who:
            detail += f" by {self.who}"
        if self.link:
            detail += f" {self.link}"
        return Change(kind="deploy", at=at, detail=detail)


class DeployStored(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = "stored"
    service: str
    at: float
