"""Outbound calls per inbound request: a handler firing hundreds of calls at once shows here."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckParams,
    CheckSkipped,
    finding,
    grade,
    rounded,
)


class OutboundFanoutParams(CheckParams):
    warn_calls_per_request: float = Field(default=10, gt=0)
    crit_calls_per_request: float = Field(default=40, gt=0)
    min_request_rate: float = Field(default=0.05, ge=0)


ADVICE = (
    "Requests fan out into many outbound calls at once. Put a concurrency limit on the "
    "fan-out (p-limit or a small worker pool), batch the calls if the dependency has a bulk "
    "API, and cap the agent's sockets so a large input cannot open thousands of connections."
)


class OutboundFanout(CheckKind[OutboundFanoutParams]):
    kind = "outbound_fanout"
    params_model = OutboundFanoutParams

    def signals(self, params: OutboundFanoutParams) -> set[Signal]:
        return {Signal.DOWNSTREAM_RATE, Signal.REQUEST_RATE}

    def evaluate(self, params: OutboundFanoutParams, ctx: CheckContext) -> list[Finding]:
        outbound = stats.combine(ctx.series(Signal.DOWNSTREAM_RATE), stats.total)
        inbound = stats.combine(ctx.series(Signal.REQUEST_RATE), stats.total)
        inbound_by_time = dict(inbound)
        ratios = [
            (t, v / inbound_by_time[t])
            for t, v in outbound
            if inbound_by_time.get(t, 0.0) >= max(params.min_request_rate, 1e-9)
        ]
        if not ratios:
            raise CheckSkipped("too little inbound traffic to relate outbound calls to")
        per_request = stats.sustained(stats.values(ratios)) or 0.0
        severity = grade(per_request, params.warn_calls_per_request, params.crit_calls_per_request)
        out_rate = stats.quantile(stats.values(outbound), 0.5)
        in_rate = stats.quantile(stats.values(inbound), 0.5)
        summary = (
            f"{per_request:.1f} outbound calls per inbound request "
            f"({out_rate or 0:.1f}/s out, {in_rate or 0:.1f}/s in)"
        )
        return [
            finding(
                "outbound_fanout",
                severity,
                summary,
                ADVICE if severity != "info" else "",
                query=ctx.query(Signal.DOWNSTREAM_RATE, Signal.REQUEST_RATE),
                observed={
                    "calls_per_request": rounded(per_request, 2),
                    "outbound_per_second": rounded(out_rate, 3),
                    "inbound_per_second": rounded(in_rate, 3),
                },
                threshold={
                    "warn_calls_per_request": params.warn_calls_per_request,
                    "crit_calls_per_request": params.crit_calls_per_request,
                },
                charts={"calls_per_request": ratios},
                unit="calls/request",
            )
        ]
