"""Datadog monitor notifications sent through the Webhooks integration.

Datadog posts whatever JSON the webhook's payload template says, with ``$VARIABLES`` replaced
by text. This parser accepts what ``config/webhooks/datadog.json`` produces: one alert per
request, every value a string::

    {"monitor_id": "$ALERT_ID", "transition": "$ALERT_TRANSITION", "title": "$ALERT_TITLE",
     "alert_type": "$ALERT_TYPE", "priority": "$ALERT_PRIORITY", "scope": "$ALERT_SCOPE",
     "tags": "$TAGS", "date": "$DATE", "link": "$LINK", ...}

A monitor is one alert per scope (``host:a`` and ``host:b`` of a multi-alert monitor are two
alerts). Recovery notifications do not say when the alert started, so a resolved alert's
``starts_at`` and ``ends_at`` are both the time of the recovery.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.errors import validate_payload
from bot.alerts.model import Alert, AlertBatch, AlertStatus, labels_fingerprint, make_alert
from bot.alerts.timestamps import Epoch, OptionalEpoch

# "[Triggered on {host:web-1}] " or "[P1] [Recovered] " in front of the monitor name.
_TITLE_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)+")
_SEVERITY_BY_ALERT_TYPE = {"error": "critical", "warning": "warning", "info": "info"}


class DatadogNotification(BaseModel):
    model_config = ConfigDict(extra="ignore")

    monitor_id: str = Field(min_length=1)
    transition: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: Epoch
    last_updated: OptionalEpoch = None
    alert_type: str = ""
    priority: str = ""
    status_summary: str = ""
    scope: str = ""
    tags: str = ""
    metric: str = ""
    cycle_key: str = ""
    event_id: str = ""
    link: str = ""
    hostname: str = ""
    org: str = ""


def parse(payload: object) -> AlertBatch:
    notification = validate_payload(DatadogNotification, payload)
    return AlertBatch(
        source="datadog", receiver=notification.org, alerts=(_to_alert(notification),)
    )


def _to_alert(notification: DatadogNotification) -> Alert:
    status = _status(notification.transition)
    scope = _normalised_tags(notification.scope)
    name = _TITLE_PREFIX.sub("", notification.title).strip() or notification.title
    return make_alert(
        source="datadog",
        status=status,
        group_key=f"datadog:monitor:{notification.monitor_id}",
        labels=_labels(notification, name),
        annotations={"summary": name, "description": notification.status_summary},
        starts_at=notification.date,
        ends_at=notification.date if status == "resolved" else None,
        fingerprint=labels_fingerprint({"monitor_id": notification.monitor_id, "scope": scope}),
        links={"source": notification.link},
    )


def _status(transition: str) -> AlertStatus:
    # Triggered, Re-Triggered, Warn, No Data, Renotify... all mean the monitor is alerting.
    return "resolved" if "recover" in transition.lower() else "firing"


def _labels(notification: DatadogNotification, name: str) -> dict[str, str]:
    labels = {**_tag_labels(notification.tags), **_tag_labels(notification.scope)}
    extra = {
        "alertname": name,
        "monitor_id": notification.monitor_id,
        "transition": notification.transition,
        "priority": notification.priority,
        "host": notification.hostname or labels.get("host", ""),
        "metric": notification.metric,
        "alert_cycle_key": notification.cycle_key,
    }
    labels.update({key: value for key, value in extra.items() if value})
    severity = labels.get("severity") or _SEVERITY_BY_ALERT_TYPE.get(notification.alert_type)
    if severity:
        labels["severity"] = severity
    return labels


def _tag_labels(tags: str) -> dict[str, str]:
    """``"env:prod, service:checkout, canary"`` -> ``{"env": "prod", ..., "canary": ""}``."""
    labels: dict[str, str] = {}
    for tag in _split_tags(tags):
        key, _, value = tag.partition(":")
        labels[key.strip()] = value.strip()
    return labels


def _normalised_tags(tags: str) -> str:
    return ",".join(sorted(_split_tags(tags)))


def _split_tags(tags: str) -> list[str]:
    return [tag.strip() for tag in tags.split(",") if tag.strip()]
