"""How much of the user-visible symptom each candidate cause explains.

The symptom is what users see: the service's request p99 against its objective, and its
failed requests. A share is 0..1 of that symptom; `None` means it cannot be measured from the
findings (or there is no symptom to share), and such a cause keeps its place in the rule order.
A share of 0 means the cause explains none of what users see: it is reported beside the
diagnosis, never as its cause.

A new cause adds its share function to `SHARES` (and what it inflates to `INFLATES`); one
without a share function keeps its place in the rule order::

    def _throttled_share(facts: Facts, symptom: Symptom) -> float | None:
        return symptom.latency_share(facts.number("cpu_throttling", "delay_ms"))

    SHARES["cpu_throttled"] = _throttled_share
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.models import Cause
from bot.triage.facts import Facts

# Lag below this (p99, ms) is not felt by requests: busy CPU or GC at this lag is load, not harm.
UNFELT_LAG_MS = 25.0
# A dependency this much slower than the service's own p99 cannot sit on the request path.
OFF_PATH_FACTOR = 1.5


@dataclass(frozen=True)
class Symptom:
    """What users see: request p99 (seconds) over objective, and the failed-request ratio."""

    p99_s: float | None
    slow: bool
    error_ratio: float | None
    failing: bool
    requests_per_second: float | None

    @classmethod
    def of(cls, facts: Facts) -> Symptom:
        p99_ms = facts.number("service_latency", "p99_ms")
        return cls(
            p99_s=p99_ms / 1000 if p99_ms else None,
            slow=facts.flagged("service_latency"),
            error_ratio=facts.number("service_errors", "error_ratio"),
            failing=facts.flagged("service_errors"),
            requests_per_second=facts.number("service_errors", "requests_per_second"),
        )

    @property
    def present(self) -> bool:
        return self.slow or self.failing

    def latency_share(self, part_ms: float | None) -> float | None:
        """`part_ms` of the request p99, when latency is the symptom."""
        if not self.slow or not self.p99_s or part_ms is None:
            return None
        return _clamp(part_ms / 1000 / self.p99_s)

    def failed_per_second(self) -> float | None:
        if self.error_ratio is None or self.requests_per_second is None:
            return None
        return self.error_ratio * self.requests_per_second

    def describe(self) -> str:
        parts = []
        if self.slow and self.p99_s:
            parts.append(f"request p99 {self.p99_s * 1000:.0f} ms over its objective")
        if self.failing and self.error_ratio is not None:
            parts.append(f"{self.error_ratio:.1%} of requests failing")
        return " and ".join(parts) or "no user-visible symptom"


ShareFn = Callable[[Facts, Symptom], float | None]


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 3)


def _either(*shares: float | None) -> float | None:
    known = [share for share in shares if share is not None]
    return max(known) if known else None


def lag_ms(facts: Facts) -> float | None:
    """The longest sustained stall a request can meet: max lag where known, else p99."""
    values = [facts.number("eventloop_lag", key) for key in ("p99_ms", "max_ms")]
    known = [value for value in values if value is not None]
    return max(known) if known else None


def _lag_felt(facts: Facts) -> bool:
    p99 = facts.number("eventloop_lag", "p99_ms")
    return p99 is None or p99 >= UNFELT_LAG_MS


def _loop_share(facts: Facts, symptom: Symptom) -> float | None:
    return symptom.latency_share(lag_ms(facts))


def _busy_share(facts: Facts, symptom: Symptom) -> float | None:
    """CPU or GC: what the lag they cause adds to requests; none when the lag is not felt."""
    if symptom.present:
        return _loop_share(facts, symptom) or 0.0
    return None if _lag_felt(facts) else 0.0


def _memory_share(facts: Facts, symptom: Symptom) -> float | None:
    """A growing heap costs requests only through GC pauses and lag; otherwise it is a risk."""
    if not symptom.present:
        return None
    if facts.flagged("eventloop_lag") or facts.flagged("gc_time"):
        return _loop_share(facts, symptom) or 0.0
    return 0.0


def _database_share(facts: Facts, symptom: Symptom) -> float | None:
    return symptom.latency_share(facts.number("db_op_latency", "p99_ms"))


def _pool_share(facts: Facts, symptom: Symptom) -> float | None:
    """Time queued for a connection: the request p99 that the statements themselves do not take."""
    if not symptom.slow or not symptom.p99_s:
        return None
    statements_ms = facts.number("db_op_latency", "p99_ms") or 0.0
    return symptom.latency_share(max(0.0, symptom.p99_s * 1000 - statements_ms))


def slow_dependency_off_path(facts: Facts) -> bool:
    """The dependency is slower than the service's own p99: no request waits for it."""
    dependency = facts.number("downstream_latency", "p99_ms")
    service = facts.number("downstream_latency", "service_p99_ms")
    return bool(dependency and service and dependency > OFF_PATH_FACTOR * service)


def _slow_dependency_share(facts: Facts, symptom: Symptom) -> float | None:
    if slow_dependency_off_path(facts):
        return 0.0
    return symptom.latency_share(facts.number("downstream_latency", "p99_ms"))


def failing_dependency_errors_per_second(facts: Facts) -> float | None:
    ratio = facts.number("downstream_errors", "error_ratio")
    rate = facts.number("downstream_errors", "calls_per_second")
    return ratio * rate if ratio is not None and rate is not None else None


def failing_dependency_in_background(facts: Facts) -> bool:
    """A dependency fails while no request fails: its calls are made outside requests (an
    exporter, a poller) or their failures are absorbed."""
    if not facts.flagged("downstream_errors") or facts.flagged("service_errors"):
        return False
    return facts.finding("service_errors") is not None


def _failing_dependency_share(facts: Facts, symptom: Symptom) -> float | None:
    if failing_dependency_in_background(facts):
        return 0.0
    failed_calls = failing_dependency_errors_per_second(facts)
    failed_requests = symptom.failed_per_second()
    errors = None
    if symptom.failing and failed_calls is not None and failed_requests:
        errors = _clamp(failed_calls / failed_requests)
    latency = symptom.latency_share(facts.number("downstream_latency", "p99_ms"))
    return _either(errors, latency)


def _own_errors_share(facts: Facts, symptom: Symptom) -> float | None:
    if not symptom.failing:
        return None
    explained = (
        _failing_dependency_share(facts, symptom) if facts.flagged("downstream_errors") else 0
    )
    return _clamp(1.0 - (explained or 0.0))


SHARES: dict[Cause, ShareFn] = {
    "event_loop_blocked": _loop_share,
    "cpu_saturated": _busy_share,
    "gc_pressure": _busy_share,
    "heap_leak": _memory_share,
    "native_memory_growth": _memory_share,
    "db_pool_saturated": _pool_share,
    "slow_queries": _database_share,
    "missing_index": _database_share,
    "lock_contention": _database_share,
    "slow_downstream": _slow_dependency_share,
    "downstream_errors": _failing_dependency_share,
    "error_spike": _own_errors_share,
}

_TIMINGS: frozenset[Cause] = frozenset(
    {"slow_queries", "slow_downstream", "db_pool_saturated", "slow_endpoint"}
)
INFLATES: Mapping[Cause, frozenset[Cause]] = {
    "unbounded_concurrency": _TIMINGS
    | {
        "event_loop_blocked",
        "cpu_saturated",
        "gc_pressure",
        "heap_leak",
        "native_memory_growth",
        "downstream_errors",
    },
    "heap_leak": frozenset({"gc_pressure", "event_loop_blocked", "cpu_saturated"}),
    "native_memory_growth": frozenset({"gc_pressure"}),
    "gc_pressure": _TIMINGS | {"event_loop_blocked", "cpu_saturated"},
    "event_loop_blocked": _TIMINGS | {"cpu_saturated"},
    "cpu_saturated": _TIMINGS,
    "connection_leak": frozenset(
        {"db_pool_saturated", "lock_contention", "slow_queries", "error_spike", "slow_endpoint"}
    ),
    "lock_contention": frozenset({"db_pool_saturated", "slow_queries", "error_spike"}),
    "missing_index": frozenset({"slow_queries", "db_pool_saturated", "slow_endpoint"}),
    "n_plus_one_queries": frozenset({"slow_queries", "db_pool_saturated", "slow_endpoint"}),
    "db_pool_saturated": frozenset({"slow_queries", "error_spike", "slow_endpoint"}),
    "slow_queries": frozenset({"slow_endpoint"}),
    "downstream_errors": frozenset({"error_spike", "slow_endpoint"}),
    "slow_downstream": frozenset({"slow_endpoint"}),
}
"""Causes whose effects make other rules fire: a blocked loop inflates every timing taken in
the process, a leak makes GC work. A consequence is folded into its cause unless it explains
a large part of the symptom on its own (a second fault)."""


CATCH_ALL: frozenset[Cause] = frozenset({"error_spike", "slow_endpoint"})
"""Causes named for a symptom nothing else explains: under a cause that inflates them (a full
pool timing requests out, a failing dependency), that cause explains them in full."""


def share_of(cause: Cause, facts: Facts, symptom: Symptom) -> float | None:
    share_fn = SHARES.get(cause)
    return share_fn(facts, symptom) if share_fn else None
