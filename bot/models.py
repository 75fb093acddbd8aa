"""Value types shared by the triage engine, the APM backends, the renderers and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.profiling.evidence import Culprit, ProfileEvidence

Status = Literal["ok", "warn", "crit", "unknown"]
Severity = Literal["info", "warn", "crit"]
Cause = Literal[
    "event_loop_blocked",
    "cpu_saturated",
    "heap_leak",
    "native_memory_growth",
    "gc_pressure",
    "db_pool_saturated",
    "slow_queries",
    "missing_index",
    "n_plus_one_queries",
    "lock_contention",
    "connection_leak",
    "slow_downstream",
    "downstream_errors",
    "unbounded_concurrency",
    "slow_endpoint",
    "error_spike",
    "healthy",
    "insufficient_data",
]

STATUS_RANK: dict[Status, int] = {"unknown": 0, "ok": 1, "warn": 2, "crit": 3}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SeriesPoint(Frozen):
    t: float
    v: float


class Evidence(Frozen):
    """What a finding rests on: the query, the values seen and the thresholds they met."""

    query: str = ""
    observed: dict[str, float | str | None] = Field(default_factory=dict)
    threshold: dict[str, float] = Field(default_factory=dict)
    series: dict[str, list[SeriesPoint]] = Field(default_factory=dict)
    unit: str = ""


class Finding(Frozen):
    code: str
    severity: Severity
    summary: str
    evidence: Evidence = Field(default_factory=Evidence)
    advice: str = ""


class StepResult(Frozen):
    id: str
    title: str
    status: Status
    findings: tuple[Finding, ...] = ()


class SecondaryCause(Frozen):
    """Another cause found beside the primary one, with its share of the symptom (0..1;
    None when it could not be measured); share 0 marks a finding that explains none of it."""

    cause: Cause
    share: float | None = Field(default=None, ge=0.0, le=1.0)
    summary: str


class Diagnosis(Frozen):
    cause: Cause
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    supporting: tuple[str, ...] = ()
    advice: str = ""
    share: float | None = Field(default=None, ge=0.0, le=1.0)
    secondary: tuple[SecondaryCause, ...] = ()
    # Named by a profile of the process (bot/profiling), when one was taken.
    culprits: tuple[Culprit, ...] = ()


class MetricsDetected(Frozen):
    """Where the service's metrics were found: the naming convention and any name prefix."""

    convention: str
    prefix: str = ""


class TriageReport(Frozen):
    service: str
    window: str
    started_at: datetime
    duration_ms: int
    steps: tuple[StepResult, ...]
    diagnosis: Diagnosis
    backend_errors: tuple[str, ...] = ()
    metrics: MetricsDetected | None = None
    profile: ProfileEvidence | None = None


class EndpointStat(Frozen):
    """One server route as the APM sees it over a window. Latencies in seconds, rates per second."""

    name: str
    p95: float | None
    p99: float | None
    rate: float
    error_rate: float | None


class DownstreamStat(Frozen):
    """One outbound dependency (HTTP host, database, cache) over a window."""

    name: str
    p99: float | None
    rate: float
    error_rate: float | None


class PlannedStep(Frozen):
    id: str
    title: str


class TriageProgress(BaseModel):
    """A triage as it runs: the steps planned, those finished so far, and the end result."""

    service: str
    window: str
    planned: list[PlannedStep]
    results: dict[str, StepResult] = Field(default_factory=dict)
    diagnosis: Diagnosis | None = None
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.diagnosis is not None or self.failure is not None
