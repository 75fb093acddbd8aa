"""Prometheus Alertmanager webhook notifications (``webhook_config``, payload version 4).

Alertmanager posts one notification per alert group::

    {"version": "4", "groupKey": "{}:{alertname=\\"HighLatency\\"}", "truncatedAlerts": 0,
     "status": "firing", "receiver": "triage-bot", "groupLabels": {...},
     "commonLabels": {...}, "commonAnnotations": {...}, "externalURL": "http://am:9093",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2024-05-01T12:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://prometheus:9090/graph?...", "fingerprint": "1a2b..."}]}

It retries on 5xx and drops the notification on 4xx, which is why only a payload that cannot
be understood is answered with 400: one malformed alert in a group is named in the answer
(`rejected`) while the others are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.errors import validate_group
from bot.alerts.fields import NonNegativeJsonInt
from bot.alerts.model import Alert, AlertBatch, AlertStatus, SourceName, make_alert
from bot.alerts.timestamps import Rfc3339, is_unset


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: Rfc3339
    endsAt: Rfc3339 | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class WebhookMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    groupKey: str = ""
    truncatedAlerts: NonNegativeJsonInt = 0
    status: AlertStatus
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: tuple[WebhookAlert, ...]


def parse(payload: object) -> AlertBatch:
    message, rejected = validate_group(WebhookMessage, payload)
    group_key = group_key_of(message)
    return AlertBatch(
        source="alertmanager",
        receiver=message.receiver,
        alerts=tuple(to_alert(alert, "alertmanager", group_key) for alert in message.alerts),
        truncated_alerts=message.truncatedAlerts,
        rejected=rejected,
    )


def to_alert(
    alert: WebhookAlert,
    source: SourceName,
    group_key: str,
    links: Mapping[str, str] | None = None,
    values: Mapping[str, float | None] | None = None,
) -> Alert:
    return make_alert(
        source=source,
        status=alert.status,
        group_key=group_key,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.startsAt,
        ends_at=_ends_at(alert.status, alert.endsAt),
        fingerprint=alert.fingerprint,
        links={"generator": alert.generatorURL, **(links or {})},
        values=values,
    )


def group_key_of(message: WebhookMessage) -> str:
    """Alertmanager's own group key; older senders without one get it rebuilt from the labels."""
    if message.groupKey:
        return message.groupKey
    labels = ",".join(f"{name}={value!r}" for name, value in sorted(message.groupLabels.items()))
    return f"{message.receiver}:{{{labels}}}"


def _ends_at(status: AlertStatus, ends_at: datetime | None) -> datetime | None:
    # A firing alert's endsAt is only Prometheus' guess of when it would expire unrefreshed.
    if status != "resolved" or ends_at is None or is_unset(ends_at):
        return None
    return ends_at
