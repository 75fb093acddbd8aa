"""Instances that stopped answering Prometheus: their scrapes fail (`up == 0`).

A process that does not answer its metrics endpoint reports nothing about itself, so every
other check reads only the instances that still answer. A Node.js process that is alive but
silent is usually stuck: its event loop blocked for good, or collecting garbage at the heap
limit, and the one stuck instance is the one the other checks cannot see. The triage must
say who is missing instead of calling the rest healthy.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding, Severity
from bot.sources.base import RangeSeries
from bot.sources.promql import format_duration
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckParams, finding
from bot.triage.scope import names as listed
from bot.triage.series import instance_name
from bot.triage.window import Window

ADVICE = (
    "An instance that stops answering its metrics endpoint is stuck or gone, and nothing it "
    "measures reaches the rest of this triage. Stuck (the process is alive): its event loop is "
    "blocked for good, an endless loop or a huge synchronous task, or it is collecting garbage "
    "at the heap limit; its last readings before it went silent and its logs say which. Gone: "
    "its logs say why it exited. Either way, take it out of rotation (delete the pod, or drain "
    "it) so requests stop waiting on it."
)


class ScrapeTargetsParams(CheckParams):
    silent_for_s: float = Field(default=20.0, gt=0)  # failing scrapes at least this long


class ScrapeTargets(CheckKind[ScrapeTargetsParams]):
    kind = "scrape_targets"
    params_model = ScrapeTargetsParams

    def signals(self, params: ScrapeTargetsParams) -> set[Signal]:
        return {Signal.TARGET_UP}

    def evaluate(self, params: ScrapeTargetsParams, ctx: CheckContext) -> list[Finding]:
        targets = ctx.series(Signal.TARGET_UP)
        silent = {
            name: since
            for one in targets
            if (name := instance_name(one.labels, ctx.pod_label))
            and (since := silent_since(one, ctx.window, params.silent_for_s)) is not None
        }
        names = sorted(silent)
        severity: Severity = "info"
        if silent:
            severity = "crit" if len(silent) == len(targets) else "warn"
        return [
            finding(
                "instances_silent",
                severity,
                _summary(names, silent, len(targets), ctx.window.end),
                ADVICE,
                query=ctx.query(Signal.TARGET_UP),
                observed={
                    "silent": ", ".join(names) or "none",
                    "silent_count": len(silent),
                    "targets": len(targets),
                    "silent_for_s": round(ctx.window.end - min(silent.values())) if silent else 0,
                },
                threshold={"silent_for_s": params.silent_for_s},
                charts={"answering_targets": stats.combine(targets, stats.total)},
                unit="targets",
            )
        ]


def silent_since(target: RangeSeries, window: Window, at_least_s: float) -> float | None:
    """When the target's scrapes began failing, if they still fail at the window's end and
    have for `at_least_s`; None otherwise. A target with no recent reading was removed (a
    rollout, a scale-down), not silenced."""
    points = stats.finite(target.points)
    if not points or points[-1][0] < window.end - 2 * window.step or points[-1][1] >= 1:
        return None
    since = points[-1][0]
    for timestamp, value in reversed(points):
        if value >= 1:
            break
        since = timestamp
    return since if points[-1][0] - since >= at_least_s else None


def _summary(names: list[str], silent: dict[str, float], total: int, end: float) -> str:
    if not names:
        return f"all {total} scrape target(s) answer Prometheus"
    longest = format_duration(max(1, round(end - min(silent.values()))))
    return (
        f"{listed(names)} ({len(names)} of {total}) stopped answering Prometheus's scrapes, for "
        f"{longest}: nothing it measures is in this triage"
    )
