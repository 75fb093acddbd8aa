"""New Relic alert workflow notifications sent to a webhook destination.

New Relic renders the workflow's Handlebars payload template; this parser accepts what
``config/webhooks/newrelic.json`` produces, one issue per request::

    {"issueId": "8f1c...", "issuePageUrl": "https://radar-api.service.newrelic.com/...",
     "title": "Response time > 2s on checkout", "priority": "CRITICAL", "state": "ACTIVATED",
     "createdAt": 1714564800000, "activatedAt": 1714564860000, "closedAt": null,
     "conditionNames": ["Checkout p99"], "policyNames": ["Node services"],
     "services": ["checkout"], "entityNames": ["checkout-prod"], "runbookUrls": []}

An issue is one alert: its id is the fingerprint and the group. ``CLOSED`` issues are
resolved; ``CREATED``, ``ACTIVATED`` and ``ACKNOWLEDGED`` ones are firing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.errors import validate_payload
from bot.alerts.fields import JsonInt
from bot.alerts.model import Alert, AlertBatch, make_alert
from bot.alerts.timestamps import Epoch, OptionalEpoch

_SEVERITY_BY_PRIORITY = {
    "CRITICAL": "critical",
    "HIGH": "critical",
    "MEDIUM": "warning",
    "LOW": "info",
}


class NewRelicIssue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    issueId: str = Field(min_length=1)
    state: str = Field(min_length=1)
    title: str = Field(min_length=1)
    createdAt: Epoch
    priority: str = ""
    issuePageUrl: str = ""
    activatedAt: OptionalEpoch = None
    updatedAt: OptionalEpoch = None
    closedAt: OptionalEpoch = None
    conditionNames: list[str] = Field(default_factory=list)
    policyNames: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    entityNames: list[str] = Field(default_factory=list)
    runbookUrls: list[str] = Field(default_factory=list)
    totalIncidents: JsonInt | None = None


def parse(payload: object) -> AlertBatch:
    issue = validate_payload(NewRelicIssue, payload)
    return AlertBatch(source="newrelic", alerts=(_to_alert(issue),))


def _to_alert(issue: NewRelicIssue) -> Alert:
    resolved = issue.state.upper() == "CLOSED"
    return make_alert(
        source="newrelic",
        status="resolved" if resolved else "firing",
        group_key=f"newrelic:issue:{issue.issueId}",
        labels=_labels(issue),
        annotations={"summary": issue.title},
        starts_at=issue.activatedAt or issue.createdAt,
        ends_at=(issue.closedAt or issue.updatedAt) if resolved else None,
        fingerprint=issue.issueId,
        links={"source": issue.issuePageUrl, "runbook": _first(issue.runbookUrls)},
    )


def _labels(issue: NewRelicIssue) -> dict[str, str]:
    labels = {
        "alertname": _first(issue.conditionNames) or issue.title,
        "issue_id": issue.issueId,
        "state": issue.state.upper(),
        "priority": issue.priority.upper(),
        "severity": _SEVERITY_BY_PRIORITY.get(issue.priority.upper(), ""),
        "service": _first(issue.services),
        "policy": _first(issue.policyNames),
        "entity": _first(issue.entityNames),
    }
    return {key: value for key, value in labels.items() if value}


def _first(values: list[str]) -> str:
    return next((value for value in values if value), "")
