"""Calls per inbound request: a rate divided by the service's request rate, moment by moment.

Shared by the checks that ask how many calls of some kind (database, outbound) one request
makes; only the moments with enough traffic count, so a quiet minute cannot inflate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.models import Finding, Severity
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckParams, CheckSkipped, finding, grade
from bot.triage.checks.units import rounded

Observed = Mapping[str, float | None]


class PerRequestParams(CheckParams):
    """Fields every calls-per-request check declares, with its own defaults."""

    warn_calls_per_request: float
    crit_calls_per_request: float
    min_request_rate: float


@dataclass(frozen=True)
class PerRequest:
    calls: stats.Points  # summed over instances
    requests: stats.Points
    ratios: stats.Points  # calls / requests at the moments with enough traffic
    query: str
    params: PerRequestParams

    @property
    def level(self) -> float:
        return stats.sustained(stats.values(self.ratios)) or 0.0

    def grade(self) -> Severity:
        params = self.params
        return grade(self.level, params.warn_calls_per_request, params.crit_calls_per_request)

    def finding(
        self, code: str, severity: Severity, summary: str, advice: str, observed: Observed
    ) -> Finding:
        """The finding with the ratio, its thresholds and its chart; `observed` adds to it."""
        return finding(
            code,
            severity,
            summary,
            advice,
            query=self.query,
            observed={"calls_per_request": rounded(self.level, 2), **observed},
            threshold={
                "warn_calls_per_request": self.params.warn_calls_per_request,
                "crit_calls_per_request": self.params.crit_calls_per_request,
            },
            charts={"calls_per_request": self.ratios},
            unit="calls/request",
        )


def per_request(
    ctx: CheckContext, calls: Signal, params: PerRequestParams, too_quiet: str
) -> PerRequest:
    """`calls` per request; `CheckSkipped` with `too_quiet` when traffic never reached
    `min_request_rate`."""
    made = ctx.total(calls)
    requests = ctx.total(Signal.REQUEST_RATE)
    by_time = dict(requests)
    floor = max(params.min_request_rate, 1e-9)
    ratios = [(t, v / by_time[t]) for t, v in made if by_time.get(t, 0.0) >= floor]
    if not ratios:
        raise CheckSkipped(too_quiet)
    return PerRequest(made, requests, ratios, ctx.query(calls, Signal.REQUEST_RATE), params)
