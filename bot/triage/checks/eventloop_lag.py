"""Event-loop lag: how late timers fire. ~10 ms is normal, 100 ms hurts, 500 ms is an outage."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, model_validator

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade
from bot.triage.checks.units import ms, rounded, scaled


class EventLoopLagParams(SustainedParams):
    fine_ms: PositiveFloat = 10
    warn_ms: PositiveFloat = 100
    crit_ms: PositiveFloat = 500
    spike_factor: float = Field(default=3.0, gt=1)

    @model_validator(mode="after")
    def _ordered(self) -> EventLoopLagParams:
        if not self.fine_ms < self.warn_ms < self.crit_ms:
            raise ValueError("thresholds must rise: fine_ms < warn_ms < crit_ms")
        return self


ADVICE = (
    "Something holds the main thread. Look for synchronous work in request handlers "
    "(fs *Sync calls, pbkdf2Sync and other sync crypto, JSON.parse or stringify of large "
    "payloads, pathological regular expressions); take a CPU profile (clinic flame or 0x) "
    "during a slow period and move heavy work to worker threads or another service."
)


class EventLoopLag(CheckKind[EventLoopLagParams]):
    kind = "eventloop_lag"
    params_model = EventLoopLagParams

    def signals(self, params: EventLoopLagParams) -> set[Signal]:
        return {Signal.EVENTLOOP_LAG_P99, Signal.EVENTLOOP_LAG_MAX}

    def evaluate(self, params: EventLoopLagParams, ctx: CheckContext) -> list[Finding]:
        p99_points = ctx.points(Signal.EVENTLOOP_LAG_P99)
        max_points = ctx.optional_points(Signal.EVENTLOOP_LAG_MAX)
        p99 = params.sustained(p99_points) or 0.0
        p99_peak = max(stats.values(p99_points), default=0.0)
        lag_max = params.sustained(max_points)
        warn, crit = params.warn_ms / 1000, params.crit_ms / 1000
        severity = grade(p99, warn, crit)
        spiky = lag_max is not None and lag_max >= max(params.spike_factor * p99, warn)
        if severity == "info" and lag_max is not None and lag_max >= crit:
            severity = "warn"  # rare but long blocks: p99 hides them, max does not
        summary = f"p99 lag {ms(p99)} (peak {ms(p99_peak)})"
        if lag_max is not None:
            summary += f", max {ms(lag_max)}"
        summary += _verdict(p99, lag_max, params)
        return [
            finding(
                "eventloop_lag",
                severity,
                summary,
                ADVICE,
                query=ctx.query(Signal.EVENTLOOP_LAG_P99, Signal.EVENTLOOP_LAG_MAX),
                observed={
                    "p99_ms": rounded(p99 * 1000, 1),
                    "p99_peak_ms": rounded(p99_peak * 1000, 1),
                    "max_ms": None if lag_max is None else rounded(lag_max * 1000, 1),
                    "spiky": "yes" if spiky else "no",
                },
                threshold={
                    "fine_ms": params.fine_ms,
                    "warn_ms": params.warn_ms,
                    "crit_ms": params.crit_ms,
                },
                charts={"p99": scaled(p99_points, 1000), "max": scaled(max_points, 1000)},
                unit="ms",
            )
        ]


def _verdict(p99: float, lag_max: float | None, params: EventLoopLagParams) -> str:
    worst = max(p99, lag_max or 0.0) * 1000
    if worst >= params.crit_ms:
        return ": the loop is stalling"
    if worst >= params.warn_ms:
        return ": the loop is blocked often enough to slow every request"
    if p99 * 1000 >= params.fine_ms * 2.5:  # the 10 ms sampling resolution sits near fine_ms
        return ": elevated but not yet harmful"
    return ": healthy"
