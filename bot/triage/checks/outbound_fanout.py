"""Outbound calls per inbound request: a handler firing hundreds of calls at once shows here."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind
from bot.triage.checks.per_request import PerRequestParams, per_request
from bot.triage.checks.units import rounded


class OutboundFanoutParams(PerRequestParams):
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
        quiet = "too little inbound traffic to relate outbound calls to"
        found = per_request(ctx, Signal.DOWNSTREAM_RATE, params, quiet)
        out_rate = stats.quantile(stats.values(found.calls), 0.5)
        in_rate = stats.quantile(stats.values(found.requests), 0.5)
        summary = (
            f"{found.level:.1f} outbound calls per inbound request "
            f"({out_rate or 0:.1f}/s out, {in_rate or 0:.1f}/s in)"
        )
        observed = {
            "outbound_per_second": rounded(out_rate, 3),
            "inbound_per_second": rounded(in_rate, 3),
        }
        return [found.finding("outbound_fanout", found.grade(), summary, ADVICE, observed)]
