"""APM backends by name, as the service catalog's `apm.backend` refers to them.

A factory takes `ApmBackendOptions` and returns a ready `ApmBackend`, raising `ApmUnavailable`
with one sentence when something it needs is missing. Adding a backend is one module with a
`from_options` factory plus one line here; the contract tests in tests/sources/apm then run
over it (they ask for a harness for every name registered here).

Example::

    options = ApmBackendOptions(session=session, api_key=api_key, application_key=app_key)
    backend = BACKENDS["datadog"](options)
    slowest = await backend.slowest_endpoints(ApmTarget(service="checkout", env="prod"), 900)
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sources.apm import datadog, newrelic, prometheus_apm
from bot.sources.apm.base import (
    ApmBackend,
    ApmBackendOptions,
    ApmTarget,
    ApmUnavailable,
    slowest_first,
)

ApmBackendFactory = Callable[[ApmBackendOptions], ApmBackend]

BACKENDS: dict[str, ApmBackendFactory] = {
    "datadog": datadog.from_options,
    "newrelic": newrelic.from_options,
    # Reads `ApmBackendOptions.metrics` (a MetricsQuerier) instead of credentials.
    "prometheus": prometheus_apm.from_options,
}

__all__ = [
    "BACKENDS",
    "ApmBackend",
    "ApmBackendFactory",
    "ApmBackendOptions",
    "ApmTarget",
    "ApmUnavailable",
    "slowest_first",
]
