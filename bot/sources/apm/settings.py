"""Credentials and endpoints for the vendor APM backends, read from `Settings` once.

apm = ApmSettings.from_settings(settings)
options = apm.options_for("datadog", session)
backend = BACKENDS["datadog"](options)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.sources.apm.base import DEFAULT_TIMEOUT_SECONDS, ApmBackendOptions

if TYPE_CHECKING:
    import aiohttp

    from bot.settings import Settings
    from bot.sources.base import MetricsQuerier


@dataclass(frozen=True)
class ApmSettings:
    """What the Datadog and New Relic backends need; the Prometheus one needs none of it."""

    datadog_api_key: SecretStr | None = None
    datadog_app_key: SecretStr | None = None
    datadog_url: str | None = None
    newrelic_api_key: SecretStr | None = None
    newrelic_url: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> ApmSettings:
        return cls(
            datadog_api_key=settings.DATADOG_API_KEY,
            datadog_app_key=settings.DATADOG_APP_KEY,
            datadog_url=str(settings.DATADOG_API_URL).rstrip("/"),
            newrelic_api_key=settings.NEWRELIC_API_KEY,
            newrelic_url=str(settings.NEWRELIC_API_URL),
        )

    def options_for(
        self,
        backend: str,
        session: aiohttp.ClientSession,
        *,
        metrics: MetricsQuerier | None = None,
        metric_names: frozenset[str] | None = None,
    ) -> ApmBackendOptions:
        """Options for the registry factory of `backend`, with only that backend's secrets."""
        keys: dict[str, tuple[SecretStr | None, SecretStr | None, str | None]] = {
            "datadog": (self.datadog_api_key, self.datadog_app_key, self.datadog_url),
            "newrelic": (self.newrelic_api_key, None, self.newrelic_url),
        }
        api_key, application_key, base_url = keys.get(backend, (None, None, None))
        return ApmBackendOptions(
            session=session,
            api_key=api_key,
            application_key=application_key,
            base_url=base_url,
            timeout_seconds=self.timeout_seconds,
            metrics=metrics,
            metric_names=metric_names,
        )
