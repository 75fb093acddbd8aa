"""Alert webhook parsers, one module per sender, registered by the name used in the URL.

A parser takes the decoded JSON body and returns an AlertBatch, or raises AlertPayloadError
naming the bad field. Adding a sender is one module plus one line here; the contract tests in
``tests/alerts`` then expect an example payload at ``tests/alerts/payloads/<name>.json``.

Example::

    batch = SOURCES["alertmanager"](json.loads(body))
"""

from __future__ import annotations

from collections.abc import Callable

from bot.alerts.model import AlertBatch
from bot.alerts.sources import alertmanager, datadog, generic, grafana, newrelic

Parser = Callable[[object], AlertBatch]

SOURCES: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
    "datadog": datadog.parse,
    "newrelic": newrelic.parse,
    "generic": generic.parse,
}
