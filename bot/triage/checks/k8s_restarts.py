"""Container restarts in the window, and why: killed for memory, or crashing in a loop.

The restart counter (kube-state-metrics) says how often; the last termination reason and the
CrashLoopBackOff wait say why; the working set against the memory limit shows how close the
container ran to it before each restart.
"""

from __future__ import annotations

import itertools

from pydantic import Field

from bot.models import Finding, Severity
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckParams, finding
from bot.triage.checks.units import MIB, mebibytes, percent, rounded, scaled


class PodRestartsParams(CheckParams):
    crit_restarts: int = Field(default=3, ge=1)
    near_limit_share: float = Field(default=0.9, gt=0, le=1)


OOM_ADVICE = (
    "The container is killed for exceeding its memory limit. Compare the working set with "
    "the limit: if it climbs steadily, find what keeps memory (heap snapshots for the "
    "JavaScript heap, RSS against heap for Buffers); if it is a steady level, raise the limit "
    "and set --max-old-space-size below it so V8 collects before the kernel kills."
)
CRASH_ADVICE = (
    "The container keeps exiting and Kubernetes restarts it with growing delays. Read the "
    "logs of the previous run (kubectl logs --previous) for the exception or exit code, and "
    "check what changed at start-up: configuration, secrets, a dependency it cannot reach."
)


class PodRestarts(CheckKind[PodRestartsParams]):
    kind = "pod_restarts"
    params_model = PodRestartsParams

    def signals(self, params: PodRestartsParams) -> set[Signal]:
        return {
            Signal.POD_RESTARTS,
            Signal.POD_OOM_KILLED,
            Signal.POD_CRASH_LOOP,
            Signal.MEMORY_WORKING_SET,
            Signal.MEMORY_LIMIT,
        }

    def evaluate(self, params: PodRestartsParams, ctx: CheckContext) -> list[Finding]:
        per_pod = [_increase(one.points) for one in ctx.series(Signal.POD_RESTARTS)]
        restarts = sum(per_pod)
        most_on_one = max(per_pod, default=0.0)
        oom = _ever(ctx, Signal.POD_OOM_KILLED)
        looping = _ever(ctx, Signal.POD_CRASH_LOOP)
        working_set = ctx.optional_points(Signal.MEMORY_WORKING_SET)
        peak = max(stats.values(working_set), default=None)
        limit = max(stats.values(ctx.optional_points(Signal.MEMORY_LIMIT)), default=None)
        near_limit = bool(peak and limit and peak >= params.near_limit_share * limit)
        reason = "OOMKilled" if oom or near_limit else ("CrashLoopBackOff" if looping else "")
        severity: Severity = "info"
        if restarts >= 1:
            severity = "crit" if most_on_one >= params.crit_restarts or looping else "warn"
        return [
            finding(
                "pod_restarts",
                severity,
                _summary(restarts, reason, peak, limit),
                OOM_ADVICE if reason == "OOMKilled" else CRASH_ADVICE,
                query=ctx.query(Signal.POD_RESTARTS, Signal.POD_OOM_KILLED),
                observed={
                    "restarts": restarts,
                    "most_on_one_pod": most_on_one,
                    "reason": reason or "unknown",
                    "oom_killed": "yes" if oom else "no",
                    "crash_loop": "yes" if looping else "no",
                    "working_set_peak_mib": rounded(peak / MIB if peak else None, 1),
                    "memory_limit_mib": rounded(limit / MIB if limit else None, 1),
                },
                threshold={"crit_restarts": params.crit_restarts},
                charts={"working_set_mib": scaled(working_set, 1 / MIB)},
                unit="restarts",
            )
        ]


def _increase(points: stats.Points) -> float:
    """How much a counter rose over the points, counting through resets."""
    values = stats.values(points)
    return float(sum(max(0.0, b - a) if b >= a else b for a, b in itertools.pairwise(values)))


def _ever(ctx: CheckContext, signal: Signal) -> bool:
    return any(v >= 1 for v in stats.values(ctx.optional_points(signal)))


def _summary(restarts: float, reason: str, peak: float | None, limit: float | None) -> str:
    text = f"{restarts:.0f} container restart(s) in the window"
    if reason == "OOMKilled":
        text += ", last terminated: OOMKilled"
    elif reason:
        text += ", waiting in CrashLoopBackOff"
    if peak and limit:
        text += f"; working set peaked at {mebibytes(peak)} of a {mebibytes(limit)} limit"
        text += f" ({percent(peak / limit)})"
    return text
