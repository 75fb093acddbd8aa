"""Grafana unified alerting webhook contact point.

The body is Alertmanager's webhook shape plus ``orgId``, ``title``, ``state`` and ``message``,
and per alert ``values`` (the numbers of each query and expression), ``dashboardURL``,
``panelURL`` and ``silenceURL``.

When the contact point has an HMAC secret, Grafana sends the hex HMAC-SHA256 of the body in
``X-Grafana-Alerting-Signature``. If a timestamp header is configured too (this bot reads
``X-Grafana-Alerting-Signature-Timestamp``), the Unix time goes in that header and the HMAC
covers ``<timestamp>:<body>``; such requests are refused once older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from pydantic import StrictFloat

from bot.alerts.errors import validate_group
from bot.alerts.fields import JsonInt
from bot.alerts.model import Alert, AlertBatch
from bot.alerts.sources.alertmanager import (
    WebhookAlert,
    WebhookMessage,
    group_key_of,
    to_alert,
)

SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
REPLAY_WINDOW_SECONDS = 300.0


class GrafanaAlert(WebhookAlert):
    values: dict[str, StrictFloat | None] | None = None
    dashboardURL: str = ""
    panelURL: str = ""
    silenceURL: str = ""


class GrafanaMessage(WebhookMessage):
    alerts: tuple[GrafanaAlert, ...]
    orgId: JsonInt = 0
    title: str = ""
    state: str = ""
    message: str = ""


def parse(payload: object) -> AlertBatch:
    message, rejected = validate_group(GrafanaMessage, payload)
    group_key = group_key_of(message)
    return AlertBatch(
        source="grafana",
        receiver=message.receiver,
        alerts=tuple(_to_alert(alert, group_key) for alert in message.alerts),
        truncated_alerts=message.truncatedAlerts,
        rejected=rejected,
    )


def _to_alert(alert: GrafanaAlert, group_key: str) -> Alert:
    links = {"dashboard": alert.dashboardURL, "panel": alert.panelURL, "silence": alert.silenceURL}
    return to_alert(alert, "grafana", group_key, links=links, values=alert.values)


def signature_problem(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    now: Callable[[], float] = time.time,
) -> str | None:
    """Why the request's signature is not acceptable, or None when it is.

    The returned text names the problem only; it never contains the secret or the body.
    """
    signature = headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not signature:
        return f"missing {SIGNATURE_HEADER} header"
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    signed = body
    if timestamp:
        stale = _timestamp_problem(timestamp, now())
        if stale:
            return stale
        signed = timestamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        return "signature does not match"
    return None


def _timestamp_problem(timestamp: str, now: float) -> str | None:
    try:
        sent_at = float(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} is not a Unix timestamp"
    if not abs(now - sent_at) <= REPLAY_WINDOW_SECONDS:
        return "signature timestamp is outside the five-minute window"
    return None
