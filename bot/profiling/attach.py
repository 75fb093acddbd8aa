"""The triage's hook: after the diagnosis, take the profile it calls for and add what it found.

report = await TriageProfiles(capture).attach(report, service, querier, names, at=end)
"""

from __future__ import annotations

from bot.catalog import Service
from bot.models import TriageReport
from bot.profiling.capture import ProfileCapture, profile_for
from bot.profiling.evidence import ProfileEvidence, ProfileKind
from bot.profiling.instances import NoInstance, worst_instance
from bot.sources.base import MetricsQuerier
from bot.sources.signals import Signal

# On demand, without a diagnosis to go by: the busiest instance's CPU.
ON_DEMAND_SIGNAL = {"cpu": Signal.CPU_CORES, "heap": Signal.HEAP_USED}


class TriageProfiles:
    def __init__(self, capture: ProfileCapture) -> None:
        self._capture = capture

    async def attach(
        self,
        report: TriageReport,
        service: Service,
        querier: MetricsQuerier,
        names: frozenset[str] | None,
        *,
        at: float,
    ) -> TriageReport:
        wanted = profile_for(report.diagnosis.cause)
        if wanted is None:
            return report
        kind, signal = wanted
        evidence = await self.take(service, kind, signal, querier, names, at=at)
        return with_profile(report, evidence)

    async def take(
        self,
        service: Service,
        kind: ProfileKind,
        signal: Signal,
        querier: MetricsQuerier,
        names: frozenset[str] | None,
        *,
        at: float,
    ) -> ProfileEvidence:
        async def find_instance(wanted: Signal) -> str:
            if names is None:
                raise NoInstance("Prometheus could not be asked which instance is worst")
            return await worst_instance(querier, names, service, wanted, at)

        return await self._capture.capture(service, kind, signal, find_instance)


def with_profile(report: TriageReport, evidence: ProfileEvidence) -> TriageReport:
    diagnosis = report.diagnosis.model_copy(update={"culprits": evidence.culprits})
    return report.model_copy(update={"profile": evidence, "diagnosis": diagnosis})
