"""The slowest outbound dependency by p99, as the APM backend (or the client histogram) sees it."""

from __future__ import annotations

from pydantic import PositiveFloat

from bot.models import DownstreamStat, Finding
from bot.sources.signals import Signal
from bot.triage.checks.base import (
    ApmCheck,
    CheckContext,
    CheckParams,
    CheckSkipped,
    CheckUnknown,
    finding,
    grade,
)
from bot.triage.checks.dependencies import levels
from bot.triage.checks.units import ms, percent, rounded


class SlowestDownstreamParams(CheckParams):
    warn_ms: PositiveFloat = 1000
    crit_ms: PositiveFloat = 3000


class SlowestDownstream(ApmCheck[SlowestDownstreamParams]):
    kind = "slowest_downstream"
    params_model = SlowestDownstreamParams

    def signals(self, params: SlowestDownstreamParams) -> set[Signal]:
        return {Signal.DOWNSTREAM_P99, Signal.DOWNSTREAM_RATE, Signal.DOWNSTREAM_ERROR_RATIO}

    def evaluate(self, params: SlowestDownstreamParams, ctx: CheckContext) -> list[Finding]:
        stats_list = _from_apm(ctx) or _from_signals(ctx)
        ranked = [d for d in stats_list if d.p99 is not None]
        if not ranked:
            raise CheckSkipped("no outbound dependency with latency data")
        slowest = max(ranked, key=lambda d: d.p99 or 0.0)
        severity = grade(slowest.p99, params.warn_ms / 1000, params.crit_ms / 1000)
        summary = f"slowest dependency {slowest.name}: p99 {ms(slowest.p99)}"
        summary += f" at {slowest.rate:.1f} calls/s"
        if slowest.error_rate:
            summary += f", {percent(slowest.error_rate)} failing"
        return [
            finding(
                "slowest_downstream",
                severity,
                summary,
                observed={
                    "dependency": slowest.name,
                    "p99_ms": rounded((slowest.p99 or 0.0) * 1000, 1),
                    "calls_per_second": rounded(slowest.rate, 3),
                    "error_ratio": rounded(slowest.error_rate, 4),
                },
                threshold={"warn_ms": params.warn_ms, "crit_ms": params.crit_ms},
                unit="ms",
            )
        ]


def _from_apm(ctx: CheckContext) -> list[DownstreamStat]:
    try:
        return list(ctx.apm_view().downstreams)
    except (CheckSkipped, CheckUnknown):
        return []


def _from_signals(ctx: CheckContext) -> list[DownstreamStat]:
    latency = levels(ctx, Signal.DOWNSTREAM_P99, 0.25)
    rates = levels(ctx, Signal.DOWNSTREAM_RATE, 0.5)
    errors = levels(ctx, Signal.DOWNSTREAM_ERROR_RATIO, 0.25)
    return [
        DownstreamStat(name=name, p99=p99, rate=rates.get(name, 0.0), error_rate=errors.get(name))
        for name, p99 in latency.items()
    ]
