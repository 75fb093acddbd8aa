"""Run the playbook for a catalog service: the one entry point the CLI, Slack commands,
incidents and the digest share."""

from __future__ import annotations

import time

from bot.catalog import Catalog, Service
from bot.models import PlannedStep, TriageReport
from bot.sources.base import MetricsUnavailable
from bot.sources.prometheus import PrometheusClient
from bot.triage.checks.base import Targets
from bot.triage.engine import ProgressCallback, TriageRequest, run_triage
from bot.triage.playbook import Playbook
from bot.triage.window import parse_window
from bot.triage.wiring import build_signal_source

PER_TRIAGE_QUERY_CAP = 4


class UnknownService(LookupError):
    def __init__(self, name: str, closest: list[str]) -> None:
        hint = f"did you mean {', '.join(closest)}?" if closest else "add it to the service catalog"
        super().__init__(f"unknown service '{name}': {hint}")
        self.closest = closest


class ServiceTriageRunner:
    def __init__(
        self, catalog: Catalog, playbook: Playbook, prometheus: PrometheusClient | None
    ) -> None:
        self.catalog = catalog
        self.playbook = playbook
        self._prometheus = prometheus

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
        request = TriageRequest(
            service=service.name,
            window=parsed,
            playbook=self.playbook,
            source=await build_signal_source(querier, service),
            targets=targets_of(service),
        )
        return await run_triage(request, on_step=on_step)


def targets_of(service: Service) -> Targets:
    slo = service.slo
    return Targets(
        p50_ms=slo.p50_ms,
        p95_ms=slo.p95_ms,
        p99_ms=slo.p99_ms,
        availability_percent=slo.availability_percent,
        pool_size=slo.pool_size,
    )
