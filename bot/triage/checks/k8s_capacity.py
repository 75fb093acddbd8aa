"""Room to grow: is the HorizontalPodAutoscaler already at its maximum (or is there none)?

Read with the rest of the checklist: when every instance is saturated and the autoscaler
cannot add pods, the service is out of capacity, whatever made the load rise.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckParams, CheckSkipped, finding


class CapacityParams(CheckParams):
    at_max_share: float = Field(default=0.5, gt=0, le=1)


class Capacity(CheckKind[CapacityParams]):
    kind = "capacity"
    params_model = CapacityParams

    def signals(self, params: CapacityParams) -> set[Signal]:
        return {Signal.HPA_CURRENT_REPLICAS, Signal.HPA_MAX_REPLICAS, Signal.POD_READY}

    def evaluate(self, params: CapacityParams, ctx: CheckContext) -> list[Finding]:
        current = ctx.optional_points(Signal.HPA_CURRENT_REPLICAS)
        most = ctx.optional_points(Signal.HPA_MAX_REPLICAS)
        ready = ctx.optional_series(Signal.POD_READY)
        if not current or not most:
            if not ready:
                raise CheckSkipped("no kube-state-metrics series for the service's pods")
            return [_no_autoscaler(len(ready), ctx)]
        limit = max(stats.values(most))
        at_max = stats.share_at_or_above(stats.values(current), limit)
        hpa = "at_max" if at_max >= params.at_max_share else "room"
        replicas = max(stats.values(current))
        summary = f"autoscaler at {replicas:.0f} of at most {limit:.0f} replicas"
        summary += ": no room to add pods" if hpa == "at_max" else ""
        return [
            finding(
                "capacity",
                "info",
                summary,
                query=ctx.query(Signal.HPA_CURRENT_REPLICAS, Signal.HPA_MAX_REPLICAS),
                observed={"hpa": hpa, "replicas": replicas, "max_replicas": limit},
                charts={"replicas": current},
                unit="replicas",
            )
        ]


def _no_autoscaler(pods: int, ctx: CheckContext) -> Finding:
    return finding(
        "capacity",
        "info",
        f"no autoscaler scales this service: {pods} pod(s), a fixed number",
        query=ctx.query(Signal.HPA_CURRENT_REPLICAS, Signal.POD_READY),
        observed={"hpa": "none", "replicas": float(pods)},
    )
