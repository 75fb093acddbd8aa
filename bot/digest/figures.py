"""The week's figures for one service. Every section is either its figures or `Missing`.

Each service's figures carry the `Grading` they are judged by (the playbook's thresholds,
`bot.grading`), so the digest calls a reading what the triage and `/health` call it. A heap
(or, with the heap flat, RSS) that climbs 15% or more over the week along a steady line
points at a leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.grading import Grading, burn_rate

LEAK_GROWTH = 0.15
FLAT_HEAP_GROWTH = 0.08
STEADY_R_SQUARED = 0.6

WHY_IT_MATTERS = {
    "throughput": "without a request rate the week's load cannot be held against the planned peak",
    "availability": "without error counts nobody can tell how much error budget is left",
    "latency": "without a latency histogram p50/p95/p99 cannot be held against their targets",
    "event loop": "event-loop lag is the first sign of code that blocks every request on a process",
    "gc": "time spent collecting garbage is time the process is not serving requests",
    "memory": "heap and RSS trends are how a leak shows up days before the process runs out",
    "pool": "a saturated connection pool makes requests queue for the database",
    "endpoints": "per-route latency shows which endpoint to fix first",
    "downstreams": "one slow dependency can dominate the service's p99",
    "incidents": "incident counts and response times show how the on-call week went",
}


@dataclass(frozen=True)
class Missing:
    """A section with no data: what is missing and why, never a blank."""

    topic: str
    reason: str

    @property
    def matters(self) -> str:
        return WHY_IT_MATTERS.get(self.topic, "")


@dataclass(frozen=True)
class Throughput:
    avg_rps: float
    peak_rps: float | None
    target_peak_rps: float | None


@dataclass(frozen=True)
class Availability:
    error_ratio: float
    target_percent: float | None

    @property
    def percent(self) -> float:
        return 100.0 * (1.0 - self.error_ratio)

    @property
    def burn_rate(self) -> float | None:
        """Errors against the budget: 1.0 spends exactly the week's budget."""
        return burn_rate(self.error_ratio, self.target_percent)

    @property
    def budget_left(self) -> float | None:
        burn = self.burn_rate
        return None if burn is None else max(0.0, 1.0 - burn)


@dataclass(frozen=True)
class LatencyQuantile:
    name: str  # "p99"
    seconds: float | None
    last_week_seconds: float | None
    target_seconds: float | None

    @property
    def change(self) -> float | None:
        if self.seconds is None or not self.last_week_seconds:
            return None
        return self.seconds / self.last_week_seconds - 1.0

    @property
    def over_target(self) -> bool:
        return None not in (self.seconds, self.target_seconds) and (
            (self.seconds or 0) > (self.target_seconds or 0)
        )


@dataclass(frozen=True)
class Latency:
    quantiles: tuple[LatencyQuantile, ...]


@dataclass(frozen=True)
class EventLoop:
    p99_typical_s: float | None  # median of the hourly worst p99
    p99_worst_s: float | None
    max_worst_s: float | None
    hours_over_bad: int

    @property
    def worst_s(self) -> float:
        return max(v for v in (self.p99_worst_s, self.max_worst_s, 0.0) if v is not None)


@dataclass(frozen=True)
class Growth:
    first: float
    last: float
    growth: float  # 0.2 = grew 20% over the week
    steady: bool


@dataclass(frozen=True)
class Memory:
    heap: Growth | None
    rss: Growth | None

    @property
    def heap_leak(self) -> bool:
        return self.heap is not None and self.heap.steady and self.heap.growth >= LEAK_GROWTH

    @property
    def native_leak(self) -> bool:
        return (
            self.rss is not None
            and self.rss.steady
            and self.rss.growth >= LEAK_GROWTH
            and self.heap is not None
            and abs(self.heap.growth) < FLAT_HEAP_GROWTH
        )


@dataclass(frozen=True)
class Pool:
    peak_used: float | None
    size: float | None
    hours_waiting: int | None  # hours with requests waiting for a connection
    peak_waiting: float | None


@dataclass(frozen=True)
class Ranked:
    """The slowest few endpoints or downstreams by p99."""

    entries: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Incidents:
    count: int
    median_ack_s: float | None
    median_resolve_s: float | None
    top_causes: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Chart:
    p99: list[tuple[float, float]] = field(default_factory=list)
    lag_p99: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceFigures:
    service: str
    throughput: Throughput | Missing
    availability: Availability | Missing
    latency: Latency | Missing
    event_loop: EventLoop | Missing
    gc_ratio: float | Missing
    memory: Memory | Missing
    pool: Pool | Missing
    endpoints: Ranked | Missing
    downstreams: Ranked | Missing
    incidents: Incidents | Missing
    chart: Chart = field(default_factory=Chart)
    unreachable: bool = False  # the metrics backend could not be reached at all
    grading: Grading = field(default_factory=Grading)
