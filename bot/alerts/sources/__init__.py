"""Alert webhook parsers, one module per sender, registered by the name used in the URL.

A parser takes the decoded JSON body and returns an AlertBatch, or raises AlertPayloadError
naming the bad field; the payload model it validates with is also what `/openapi.json`
describes. Adding a sender is one module plus one line here; the contract tests in
``tests/alerts`` then expect an example payload at ``tests/alerts/payloads/<name>.json``.

Example::

    batch = SOURCES["alertmanager"](json.loads(body))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from bot.alerts.model import AlertBatch
from bot.alerts.sources import alertmanager, datadog, generic, grafana, newrelic

Parser = Callable[[object], AlertBatch]


@dataclass(frozen=True)
class Source:
    """One sender: the model its payload is validated with, and the parser using it."""

    payload: type[BaseModel]
    parse: Parser
    summary: str

    def __call__(self, payload: object) -> AlertBatch:
        return self.parse(payload)


SOURCES: dict[str, Source] = {
    "alertmanager": Source(alertmanager.WebhookMessage, alertmanager.parse, "Alertmanager"),
    "grafana": Source(grafana.GrafanaMessage, grafana.parse, "Grafana unified alerting"),
    "datadog": Source(datadog.DatadogNotification, datadog.parse, "Datadog monitor webhook"),
    "newrelic": Source(newrelic.NewRelicIssue, newrelic.parse, "New Relic workflow webhook"),
    "generic": Source(generic.GenericMessage, generic.parse, "Any tool: the generic shape"),
}
