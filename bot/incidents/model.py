"""The incident document kept in the store (as JSON) and its lifecycle rules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

IncidentStatus = Literal["triggered", "acknowledged", "resolved"]
TriageState = Literal["pending", "running", "done", "failed"]

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2, "critical": 3, "page": 4}


class SlackThread(BaseModel):
    """Where the incident lives in Slack; `root_ts` is filled in once the root is posted."""

    channel: str
    root_ts: str | None = None


class Incident(BaseModel):
    id: str
    group_key: str
    service: str | None
    alertname: str
    status: IncidentStatus = "triggered"
    severity: str = "warning"
    summary: str = ""
    opened_at: datetime
    updated_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reopened_count: int = 0
    alerts_received: int = 0
    # How many alerts fire now; their fingerprints live beside the document, in the store.
    firing_count: int = 0
    matchers: dict[str, str] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)
    slack: SlackThread
    triage: TriageState = "pending"
    diagnosis: str | None = None
    silence_ids: list[str] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def raise_severity(self, severity: str) -> None:
        if SEVERITY_ORDER.get(severity, 1) > SEVERITY_ORDER.get(self.severity, 1):
            self.severity = severity

    def acknowledge(self, who: str, at: datetime) -> bool:
        if self.status != "triggered":
            return False
        self.status, self.acknowledged_by, self.acknowledged_at = "acknowledged", who, at
        self.updated_at = at
        return True

    def resolve(self, who: str, at: datetime) -> bool:
        if self.status == "resolved":
            return False
        self.status, self.resolved_by, self.resolved_at = "resolved", who, at
        self.updated_at = at
        return True

    def reopen(self, at: datetime) -> None:
        self.status = "triggered"
        self.resolved_by = self.resolved_at = None
        self.acknowledged_by = self.acknowledged_at = None
        self.reopened_count += 1
        self.triage = "pending"
        self.updated_at = at


class TimelineEntry(BaseModel):
    at: datetime
    who: str
    what: str
