"""CPU starvation: the loop lags while the process barely uses CPU.

Code that holds the event loop keeps its core busy, so lag with an idle process means the
process waits for a CPU it is not given: neighbours on the node (or, on a VM, the host) take
it. The CPU is read per instance at the moments the loop had been lagging for a whole rate range,
so a process that was idle before a bad deploy and busy since is not mistaken for a starved
one; and only when the loop lagged for as much of the window as the lag check needs to call
it lagging, so a healthy pod stalled for a minute by a busy machine is not called starved.
"""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from bot.models import Finding, Severity
from bot.sources.promql import parse_duration
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, settled
from bot.triage.checks.units import ms, rounded


class CpuStarvationParams(SustainedParams):
    """`sustained_share` as the lag check's: lag held by less of the window is a passing
    stall (a busy CI machine stalls a healthy pod for a minute), not a starved pod."""

    lag_warn_ms: PositiveFloat = 100
    idle_cores: float = Field(default=0.15, gt=0, le=1)
    idle_utilization: float = Field(default=0.5, gt=0, le=1)
    min_samples: int = Field(default=3, ge=1)


ADVICE = (
    "Confirm on the node before changing code: the node's CPU use and load, the other pods' "
    "CPU, and steal time on a virtual machine (node_cpu_seconds_total with mode steal). A CPU "
    "request close to what the pod really uses protects it; moving the pod (cordon the node "
    "and delete the pod) relieves it now. If the node turns out idle, look for synchronous "
    "I/O instead (fs *Sync calls, child_process.execSync), which blocks without using CPU."
)


class CpuStarvation(CheckKind[CpuStarvationParams]):
    kind = "cpu_starvation"
    params_model = CpuStarvationParams

    def signals(self, params: CpuStarvationParams) -> set[Signal]:
        return {Signal.EVENTLOOP_LAG_P99, Signal.CPU_CORES, Signal.EVENTLOOP_UTILIZATION}

    def evaluate(self, params: CpuStarvationParams, ctx: CheckContext) -> list[Finding]:
        readings = [
            reading
            for name in _instances(ctx)
            if (reading := _while_lagging(ctx, name, params)) is not None
        ]
        if not readings:
            note = "the loop did not lag long enough to compare with the CPU it used"
            return [finding("cpu_starved", "info", note, query=ctx.query(Signal.CPU_CORES))]
        # the idlest lagging instance speaks for the service; the scope pass names them all
        worst, cpu, elu, lagging, cores = min(readings, key=lambda r: r[1])
        idle = cpu < params.idle_cores and (elu is None or elu < params.idle_utilization)
        severity: Severity = "warn" if idle else "info"
        summary = f"while the loop lagged (up to {ms(worst)}), the process used {cpu:.2f} cores"
        summary += ": idle, so it is waiting for CPU" if idle else ": busy, its own work"
        return [
            finding(
                "cpu_starved",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.EVENTLOOP_LAG_P99, Signal.CPU_CORES),
                observed={
                    "cores_while_lagging": rounded(cpu, 3),
                    "utilization_while_lagging": rounded(elu, 3),
                    "lagging_samples": lagging,
                },
                threshold={"idle_cores": params.idle_cores, "lag_warn_ms": params.lag_warn_ms},
                charts={"cores": cores},
                unit="cores",
            )
        ]


Reading = tuple[float, float, float | None, int, stats.Points]


def _instances(ctx: CheckContext) -> list[str | None]:
    """Instance names on the lag series (None: the series carry no instance)."""
    names = {
        stats.instance_name(one.labels, ctx.pod_label)
        for one in ctx.series(Signal.EVENTLOOP_LAG_P99)
    }
    return sorted(names, key=lambda name: name or "")


def _of(ctx: CheckContext, signal: Signal, name: str | None) -> stats.Points:
    found = [
        one
        for one in ctx.optional_series(signal)
        if stats.instance_name(one.labels, ctx.pod_label) == name
    ]
    return stats.combine(found)


def _while_lagging(
    ctx: CheckContext, name: str | None, params: CpuStarvationParams
) -> Reading | None:
    """(worst lag, median CPU, median utilisation, moments, CPU points) of one instance at the
    moments its loop lagged; None when there are too few such moments to judge."""
    lag_points = _of(ctx, Signal.EVENTLOOP_LAG_P99, name)
    warn = params.lag_warn_ms / 1000
    if (params.sustained(lag_points) or 0.0) < warn:
        return None
    lag = dict(lag_points)
    cores = settled(_of(ctx, Signal.CPU_CORES, name), ctx.window)
    by_time = dict(cores)
    busy = dict(_of(ctx, Signal.EVENTLOOP_UTILIZATION, name))
    lagging = _steadily_lagging(lag, warn, parse_duration(ctx.window.rate_window))
    lagging = [t for t in lagging if t in by_time]
    if len(lagging) < params.min_samples:
        return None
    cpu = stats.quantile([by_time[t] for t in lagging], 0.5) or 0.0
    elu = stats.quantile([busy[t] for t in lagging if t in busy], 0.5)
    return max(lag[t] for t in lagging), cpu, elu, len(lagging), cores


def _steadily_lagging(lag: dict[float, float], warn: float, rate_s: float) -> list[float]:
    """Moments the loop had been lagging for a whole rate range: the CPU rate read then
    covers the lagging stretch only, not the quiet time before it (a restart, say)."""
    times = sorted(lag)
    if not times:
        return []
    first = times[0]
    return [
        t
        for t in times
        if t - rate_s >= first and all(lag[u] >= warn for u in times if t - rate_s <= u <= t)
    ]
