"""Run the playbook for a catalog service: the one entry point the CLI, Slack commands,
incidents and the digest share.

    async with ServiceTriageRunner(catalog, playbook, client, ApmSettings.from_settings(s)) as r:
        report = await r.run("checkout", "10m", on_step=post_progress)

Create one runner for the bot's lifetime: it keeps the per-service convention cache and the
HTTP session the vendor APM backends use. Each triage gets its own capped Prometheus caller,
shared by convention detection, the signal fetches and the Prometheus-derived APM backend.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Mapping
from types import TracebackType

import aiohttp
from pydantic import SecretStr

from bot.catalog import Catalog, DatadogApm, NewRelicApm, Service
from bot.models import (
    DownstreamStat,
    EndpointStat,
    MetricsDetected,
    PlannedStep,
    TriageReport,
)
from bot.profiling.attach import ON_DEMAND_SIGNAL, TriageProfiles
from bot.profiling.capture import CaptureStore, ProfileCapture
from bot.profiling.evidence import ProfileEvidence, ProfileKind
from bot.sources.apm import BACKENDS, ApmBackend, ApmTarget, ApmUnavailable
from bot.sources.apm.prometheus_apm import PrometheusApm
from bot.sources.apm.settings import ApmSettings
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import UNKNOWN, ConventionDetector, detect
from bot.sources.postgres import DatabaseEvidence, ServiceEvidence
from bot.sources.postgres.collect import Metrics
from bot.sources.prometheus import PrometheusClient
from bot.store.memory import MemoryStore
from bot.triage.checks.base import Targets
from bot.triage.engine import ProgressCallback, TriageRequest, run_triage
from bot.triage.playbook import Playbook
from bot.triage.service_source import PROMETHEUS_DOWN, wire_service
from bot.triage.window import parse_window

PER_TRIAGE_QUERY_CAP = 4
DATABASE_STEP = "database"


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
        database_urls: Mapping[str, SecretStr] | None = None,
        agent_tokens: Mapping[str, SecretStr] | None = None,
        capture_store: CaptureStore | None = None,
    ) -> None:
        self.catalog = catalog
        self.playbook = playbook
        self._prometheus = prometheus
        self._apm_settings = apm or ApmSettings()
        self._detector = detector or ConventionDetector()
        self._session: aiohttp.ClientSession | None = None
        self._database_urls = dict(database_urls or {})
        self._evidence: dict[str, ServiceEvidence] = {}
        # One process alone (the CLI) may keep the capture limits in memory; replicas share a store.
        capture = ProfileCapture(capture_store or MemoryStore(), self._http, agent_tokens or {})
        self._profiles = TriageProfiles(capture)

    def planned_steps(self) -> list[PlannedStep]:
        return [PlannedStep(id=step.id, title=step.title) for step in self.playbook.steps]

    def service(self, name: str) -> Service:
        service = self.catalog.get(name)
        if service is None:
            raise UnknownService(name, self.catalog.closest(name))
        return service

    async def run(
        self,
        service_name: str,
        window: str,
        on_step: ProgressCallback | None = None,
        *,
        steps: Collection[str] | None = None,
        profile: bool = False,
    ) -> TriageReport:
        """Raises UnknownService, WindowError, or MetricsUnavailable when no Prometheus is set.

        `steps` runs only the playbook steps with those ids (`{"database"}` for the database
        evidence alone); the diagnosis then rests on those steps only. With `profile`, a
        diagnosis that calls for it gets a profile of the worst instance (`attach_profile`).
        """
        service = self.service(service_name)
        parsed = parse_window(window, end=time.time())
        if self._prometheus is None:
            raise MetricsUnavailable("no Prometheus is configured: set PROMETHEUS_URL")
        querier = self._prometheus.caller(cap=PER_TRIAGE_QUERY_CAP)
        wired = await wire_service(querier, service, self._detector)
        request = TriageRequest(
            service=service.name,
            window=parsed,
            playbook=self._playbook(steps),
            source=wired.source,
            targets=targets_of(service),
            apm=self._apm_backend(service, querier, wired.metric_names),
            apm_target=apm_target_of(service),
            database=self._database(service, Metrics(querier, parsed.end)),
            metrics=detected_metrics(wired.metric_names),
        )
        report = await run_triage(request, on_step=on_step)
        if not profile or steps is not None:
            return report
        return await self._profiles.attach(
            report, service, querier, wired.metric_names, at=parsed.end
        )

    async def attach_profile(self, report: TriageReport) -> TriageReport:
        """`report` with a profile of the worst instance when its diagnosis calls for one."""
        service = self.service(report.service)
        if self._prometheus is None:
            return report
        querier = self._prometheus.caller(cap=PER_TRIAGE_QUERY_CAP)
        names = (await wire_service(querier, service, self._detector)).metric_names
        return await self._profiles.attach(report, service, querier, names, at=time.time())

    async def profile_now(self, service_name: str, kind: ProfileKind = "cpu") -> ProfileEvidence:
        """A profile on demand (the Profile now button, `/triage SERVICE profile`)."""
        service = self.service(service_name)
        if self._prometheus is None:
            raise MetricsUnavailable("no Prometheus is configured: set PROMETHEUS_URL")
        querier = self._prometheus.caller(cap=PER_TRIAGE_QUERY_CAP)
        names = (await wire_service(querier, service, self._detector)).metric_names
        signal = ON_DEMAND_SIGNAL[kind]
        return await self._profiles.take(service, kind, signal, querier, names, at=time.time())

    def _playbook(self, steps: Collection[str] | None) -> Playbook:
        if steps is None:
            return self.playbook
        kept = tuple(step for step in self.playbook.steps if step.id in steps)
        return dataclasses.replace(self.playbook, steps=kept or self.playbook.steps)

    def _database(self, service: Service, metrics: Metrics) -> _TriageDatabase | None:
        """The service's evidence, kept across triages so a re-run can reuse its last reading."""
        config = service.database
        if config is None:
            return None
        evidence = self._evidence.get(service.name)
        if evidence is None:
            evidence = ServiceEvidence(config, self._database_urls.get(config.dsn_env))
            self._evidence[service.name] = evidence
        return _TriageDatabase(evidence, metrics)

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
        for evidence in self._evidence.values():
            await evidence.close()

    async def __aenter__(self) -> ServiceTriageRunner:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@dataclasses.dataclass(frozen=True)
class _TriageDatabase:
    """A service's evidence bound to one triage's Prometheus caller and window end."""

    evidence: ServiceEvidence
    metrics: Metrics

    async def collect(self, window_s: float) -> DatabaseEvidence:
        return await self.evidence.collect(window_s, self.metrics)


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


def detected_metrics(names: frozenset[str] | None) -> MetricsDetected | None:
    """The convention and prefix detection found (None when Prometheus could not be asked)."""
    if names is None:
        return None
    found = detect(names)
    if found is None:
        return MetricsDetected(convention=UNKNOWN)
    return MetricsDetected(convention=found.name, prefix=found.prefix)


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
