"""A small JSON shape for any tool that can post a webhook but has no parser of its own.

POST /alerts/generic with::

    {
      "receiver": "my-cron-checker",                # optional
      "alerts": [
        {
          "name": "CheckoutLatencyHigh",            # required: what is wrong
          "status": "firing",                       # required: "firing" or "resolved"
          "starts_at": "2024-05-01T12:00:00Z",      # required: RFC 3339, with a time zone
          "service": "checkout",                    # optional: the service it is about
          "severity": "critical",                   # optional, default "warning"
          "summary": "p99 above 2s for 10 minutes", # optional
          "labels": {"env": "prod"},                # optional: string values only
          "ends_at": "2024-05-01T12:30:00Z",        # optional: when it resolved
          "url": "https://...",                     # optional: a page about the alert
          "fingerprint": "checkout-latency"         # optional: your stable alert id
        }
      ]
    }

Send the same ``starts_at`` (and ``fingerprint`` if you set one) on every retry of a
notification: they identify it, so repeated deliveries are recognised as duplicates. Without a
fingerprint, the alert's identity is a hash of its labels, name, service and severity.
Alerts are grouped into incidents by service, or by name when there is no service.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.errors import validate_group
from bot.alerts.model import Alert, AlertBatch, AlertStatus, make_alert
from bot.alerts.timestamps import Rfc3339


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    status: AlertStatus
    starts_at: Rfc3339
    service: str = ""
    severity: str = ""
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    ends_at: Rfc3339 | None = None
    url: str = ""
    fingerprint: str = ""


class GenericMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    receiver: str = ""
    alerts: list[GenericAlert] = Field(min_length=1)


def parse(payload: object) -> AlertBatch:
    message, rejected = validate_group(GenericMessage, payload)
    return AlertBatch(
        source="generic",
        receiver=message.receiver,
        alerts=tuple(_to_alert(alert) for alert in message.alerts),
        rejected=rejected,
    )


def _to_alert(alert: GenericAlert) -> Alert:
    named = {"alertname": alert.name, "service": alert.service, "severity": alert.severity}
    labels = {**alert.labels, **{key: value for key, value in named.items() if value}}
    return make_alert(
        source="generic",
        status=alert.status,
        group_key=f"generic:{alert.service or alert.name}",
        labels=labels,
        annotations={"summary": alert.summary} if alert.summary else {},
        starts_at=alert.starts_at,
        ends_at=alert.ends_at if alert.status == "resolved" else None,
        fingerprint=alert.fingerprint,
        links={"source": alert.url},
    )
