"""Any PromQL the team cares about, held against warn/crit thresholds: no code needed.

    - kind: promql_threshold
      code: job_queue_depth
      name: job queue depth
      expr: sum(bullmq_queue_waiting{$selector})
      warn: 100
      crit: 1000
      direction: above          # or below, for things that should stay high
      unit: jobs
      advice: Add workers or find the job type that stopped completing.

`$selector` becomes the service's label matchers (as detected for its metric convention) and
`$window` the rate window, so `rate(x_total{$selector}[$window])` works for every service.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.models import Finding
from bot.sources.promql import template_problems
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, SustainedParams, finding, grade
from bot.triage.checks.units import rounded, scaled


class PromqlThresholdParams(SustainedParams):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    name: str = Field(min_length=1, max_length=80)
    expr: str
    warn: float
    crit: float | None = None
    direction: Literal["above", "below"] = "above"
    unit: str = Field(default="", max_length=20)
    scale: float = 1.0
    advice: str = ""

    @field_validator("expr")
    @classmethod
    def _expandable(cls, expr: str) -> str:
        problem = template_problems(expr)
        if problem:
            raise ValueError(problem)
        return expr

    @model_validator(mode="after")
    def _ordered(self) -> PromqlThresholdParams:
        if self.crit is None:
            return self
        wrong = self.crit < self.warn if self.direction == "above" else self.crit > self.warn
        if wrong:
            raise ValueError(f"crit must be beyond warn for direction '{self.direction}'")
        return self


class PromqlThreshold(CheckKind[PromqlThresholdParams]):
    kind = "promql_threshold"
    params_model = PromqlThresholdParams

    def signals(self, params: PromqlThresholdParams) -> set[Signal]:
        return set()

    def custom_queries(self, params: PromqlThresholdParams) -> dict[str, str]:
        return {_key(params): params.expr}

    def evaluate(self, params: PromqlThresholdParams, ctx: CheckContext) -> list[Finding]:
        above = params.direction == "above"
        points = stats.combine(ctx.series(_key(params)), max if above else min)
        readings = scaled(points, params.scale)
        share = params.sustained_share if above else 1 - params.sustained_share
        level = stats.sustained(stats.values(readings), share)
        crit = params.crit if params.crit is not None else (float("inf") if above else -1e308)
        severity = grade(level, params.warn, crit, higher_is_worse=above)
        unit = f" {params.unit}" if params.unit else ""
        shown = "n/a" if level is None else f"{level:.4g}"
        return [
            finding(
                params.code,
                severity,
                f"{params.name} {shown}{unit}",
                params.advice,
                query=ctx.data.queries.get(_key(params), params.expr),
                observed={"value": rounded(level, 4)},
                threshold={"warn": params.warn} | ({} if params.crit is None else {"crit": crit}),
                charts={params.code: readings},
                unit=params.unit,
            )
        ]


def _key(params: PromqlThresholdParams) -> str:
    """Custom queries get their own namespace so a code can never shadow a signal name."""
    return f"custom:{params.code}"
