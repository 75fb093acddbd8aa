"""What the checks for something that keeps climbing share: heap, native memory, handles.

A climb counts when a straight line fits the series well and it rose by a real amount;
only then is its relative growth graded against warn and crit.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Severity
from bot.triage import series as stats
from bot.triage.checks.base import CheckParams, grade


class GrowthParams(CheckParams):
    warn_growth: float = Field(default=0.15, gt=0)
    crit_growth: float = Field(default=0.4, gt=0)
    min_r_squared: float = Field(default=0.7, ge=0, le=1)

    def severity(self, growth: float, climbing: bool) -> Severity:
        return grade(growth, self.warn_growth, self.crit_growth) if climbing else "info"


def rise(line: stats.Trend | None) -> float:
    return 0.0 if line is None else line.last - line.first


def climbs(line: stats.Trend | None, min_r_squared: float, min_rise: float) -> bool:
    """The line fits the series (r² at least `min_r_squared`) and rose by `min_rise` or more."""
    return line is not None and line.r_squared >= min_r_squared and rise(line) >= min_rise
