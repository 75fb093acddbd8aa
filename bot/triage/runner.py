"""Run the playbook for a catalog service: the one entry point the CLI, Slack commands,
incidents and the digest share.

    async with ServiceTriageRunner(catalog, playbook, client, ApmSettings.from_settings(s)) as r:
        report = await r.run("checkout", "10m", on_step=post_progress)

Create one runner for the bot's lifetime: it keeps the per-service convention cache and the
HTTP session the vendor APM backends use. Each triage gets its own capped Prometheus caller,
shared by convention detection, the signal fetches and the Prometheus-derived APM backend.
"""

from __future__ import annotations

import time
from types import TracebackType

import aiohttp

from bot.catalog import Catalog, DatadogApm, NewRelicApm, Service
from bot.models import DownstreamStat, EndpointStat, PlannedStep, TriageReport
from bot.sources.apm import BACKENDS, ApmBackend, ApmTarget, ApmUnavailable
from bot.sources.apm.prometheus_apm import PrometheusApm
from bot.sources.apm.settings import ApmSettings
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import ConventionDetector
from bot.sources.prometheus import PrometheusClient
from bot.triage.checks.base import Targets
from bot.triage.engine import ProgressCallback, TriageRequest, run_triage
from bot.triage.playbook import Playbook
from bot.triage.window import parse_window
from bot.triage.wiring import PROMETHEUS_DOWN, wire_service

PER_TRIAGE_QUERY_CAP = 4


class UnknownService(LookupError):
    def __init__(self, name: str, closest: list[str]) -> None:
        hint = f"did you mean {', '.join(closest)}?" if closest else "add it to the service catalog"
        super().__init__(f"unknown service '{name}': {hint}")
        self.closest = closest


class ServiceTriageRunner:
    def __init__(
        self,
        catalog: Catalog,
        playbook: Playbook,
        prometheus: PrometheusClient | None,
        apm: ApmSettings | None = None,
        *,
        detector: ConventionDetector | None = None,
    ) -> None:
        self.catalog = catalog
        self.playbook = playbook
        self._prometheus = prometheus
        self._apm_settings = apm or ApmSettings()
        self._detector = detector or ConventionDetector()
        self._session: aiohttp.ClientSession | None = None

    def planned_steps(self) -> list[PlannedStep]:
        return [PlannedStep(id=step.id, title=step.title) for step in self.playbook.steps]

    def service(self, name: str) -> Service:
        service = self.catalog.get(name)
        if service is None:
            raise UnknownService(name, self.catalog.closest(name))
        return service

    async def run(
        self, service_name: str, window: str, on_step: ProgressCallback | None = None
    ) -> TriageReport:
        """Raises UnknownService, WindowError, or MetricsUnavailable when no Prometheus is set."""
        service = self.service(service_name)
        parsed = parse_window(window, end=time.time())
        if self._prometheus is None:
            raise MetricsUnavailable("no Prometheus is configured: set PROMETHEUS_URL")
        querier = self._prometheus.caller(cap=PER_TRIAGE_QUERY_CAP)
        wired = await wire_service(querier, service, self._detector)
        request = TriageRequest(
            service=service.name,
            window=parsed,
            playbook=self.playbook,
            source=wired.source,
            targets=targets_of(service),
            apm=self._apm_backend(service, querier, wired.metric_names),
            apm_target=apm_target_of(service),
        )
        return await run_triage(request, on_step=on_step)

    def _apm_backend(
        self, service: Service, querier: MetricsQuerier, names: frozenset[str] | None
    ) -> ApmBackend:
        """The backend the catalog names; one that cannot work explains why on every call.

        The Prometheus-derived one reads through the triage's own capped caller.
        """
        backend = service.apm.backend
        if backend == "prometheus":
            if names is None:
                # Detection already found Prometheus down: do not wait on it twice more.
                return UnavailableApm(backend, PROMETHEUS_DOWN)
            timeout = self._apm_settings.timeout_seconds
            return PrometheusApm(querier, timeout_seconds=timeout, metric_names=names)
        try:
            return BACKENDS[backend](self._apm_settings.options_for(backend, self._http()))
        except ApmUnavailable as error:
            return UnavailableApm(backend, str(error))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ServiceTriageRunner:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class UnavailableApm:
    """Stands in for an APM backend that cannot be used; every question fails with `reason`."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self._reason = reason

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]:
        raise ApmUnavailable(self._reason)

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]:
        raise ApmUnavailable(self._reason)


def apm_target_of(service: Service) -> ApmTarget:
    """The service in its APM backend's own identifiers (catalog `apm`, else its name)."""
    apm = service.apm
    if isinstance(apm, DatadogApm):
        return ApmTarget(service=apm.service or service.name, env=apm.env)
    if isinstance(apm, NewRelicApm):
        return ApmTarget(
            service=service.name, app_name=apm.app_name or service.name, account_id=apm.account_id
        )
    return ApmTarget(service=service.name, selector=dict(service.selector))


def targets_of(service: Service) -> Targets:
    slo = service.slo
    return Targets(
        p50_ms=slo.p50_ms,
        p95_ms=slo.p95_ms,
        p99_ms=slo.p99_ms,
        availability_percent=slo.availability_percent,
        pool_size=slo.pool_size,
    )
