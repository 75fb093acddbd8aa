"""The normalised alert every webhook source is parsed into.

Whatever sent it (Alertmanager, Grafana, Datadog, New Relic or the generic shape), an alert
reaches the incident layer as an :class:`Alert` inside an :class:`AlertBatch`.

Link names used in ``Alert.links``: ``generator`` (the rule or query that fired), ``dashboard``,
``panel``, ``silence``, ``runbook``, ``source`` (the alert's page in the sending tool).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt

from bot.alerts.errors import RejectedAlert

SourceName = Literal["alertmanager", "grafana", "datadog", "newrelic", "generic"]
AlertStatus = Literal["firing", "resolved"]

DEFAULT_SEVERITY = "warning"
UNNAMED_ALERT = "unnamed alert"
SUMMARY_ANNOTATIONS = ("summary", "description", "title", "message")
RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook")


class Alert(BaseModel):
    """One alert instance as the bot understands it, whatever sent it.

    Example::

        alert = make_alert(
            source="generic", status="firing", group_key="generic:checkout",
            labels={"alertname": "HighLatency", "service": "checkout"},
            starts_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        )
        alert.dedupe_key  # the same for every retry of this notification
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceName
    status: AlertStatus
    alertname: str
    fingerprint: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    group_key: str
    severity: str = DEFAULT_SEVERITY
    summary: str = ""
    links: dict[str, str] = Field(default_factory=dict)
    values: dict[str, float | None] = Field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Equal for every delivery of the same notification about this alert.

        Retries and both members of an Alertmanager HA pair send the same group key,
        fingerprint, start time and status, so they share a key; a resolved notification
        differs by status, and a new firing of the same alert by its start time.
        """
        parts = (
            self.source,
            self.group_key,
            self.fingerprint,
            self.starts_at.astimezone(UTC).isoformat(),
            self.status,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class AlertBatch(BaseModel):
    """The alerts of one webhook notification, and those of it that could not be read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceName
    receiver: str = ""
    alerts: tuple[Alert, ...]
    truncated_alerts: NonNegativeInt = 0
    rejected: tuple[RejectedAlert, ...] = ()


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable identity for an alert whose sender gives none: sha256 of its sorted labels."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def make_alert(
    *,
    source: SourceName,
    status: AlertStatus,
    group_key: str,
    labels: Mapping[str, str],
    starts_at: datetime,
    annotations: Mapping[str, str] | None = None,
    ends_at: datetime | None = None,
    fingerprint: str = "",
    links: Mapping[str, str] | None = None,
    values: Mapping[str, float | None] | None = None,
) -> Alert:
    """Build an Alert, deriving name, severity, summary and fingerprint the same way for all."""
    annotations = dict(annotations or {})
    all_links = {name: url for name, url in (links or {}).items() if url}
    runbook = _first_present(annotations, RUNBOOK_ANNOTATIONS)
    if runbook and "runbook" not in all_links:
        all_links["runbook"] = runbook
    return Alert(
        source=source,
        status=status,
        alertname=labels.get("alertname") or UNNAMED_ALERT,
        fingerprint=fingerprint or labels_fingerprint(labels),
        labels=dict(labels),
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        group_key=group_key,
        severity=labels.get("severity") or DEFAULT_SEVERITY,
        summary=_first_present(annotations, SUMMARY_ANNOTATIONS),
        links=all_links,
        values=dict(values or {}),
    )


def _first_present(values: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return next((values[key] for key in keys if values.get(key)), "")
