"""How bad a reading is: the one place a signal is graded ok / warn / crit.

The thresholds are the playbook's (the parameters of its `slo_latency`, `slo_errors`,
`eventloop_lag`, `db_pool` and `gc_time` checks) and the objectives are the catalog's, so the
triage, `/health`, `/slo` and the weekly digest call the same reading the same thing:

    grading = Grading.from_playbook(config.playbook)
    grading.latency(0.9, target_s=0.5)          # "warn": over the objective, under twice it
    grading.error_ratio(0.02, availability_percent=99.9)
    grading.lag(0.12)                           # "warn": every request on the process feels it

`Grading()` holds the shipped playbook's values (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bot.triage.playbook import Playbook

Grade = Literal["ok", "warn", "crit"]

# At this burn rate a 30-day error budget is gone in about two days.
FAST_BURN = 14.4
# Share of the error budget left at or under which it is running low (half of it spent).
BUDGET_LOW = 0.5

# Which playbook check parameter feeds which threshold: (check kind, parameter) per field.
_PLAYBOOK_PARAMETERS: dict[str, tuple[str, str]] = {
    "latency_crit_factor": ("slo_latency", "crit_factor"),
    "errors_warn_ratio": ("slo_errors", "min_warn_ratio"),
    "errors_crit_ratio": ("slo_errors", "crit_ratio"),
    "lag_fine_ms": ("eventloop_lag", "fine_ms"),
    "lag_warn_ms": ("eventloop_lag", "warn_ms"),
    "lag_crit_ms": ("eventloop_lag", "crit_ms"),
    "pool_usage_warn": ("db_pool", "usage_warn"),
    "gc_warn_ratio": ("gc_time", "warn_ratio"),
    "gc_crit_ratio": ("gc_time", "crit_ratio"),
}


@dataclass(frozen=True)
class Grading:
    latency_crit_factor: float = 2.0
    errors_warn_ratio: float = 0.01
    errors_crit_ratio: float = 0.05
    lag_fine_ms: float = 10.0
    lag_warn_ms: float = 100.0
    lag_crit_ms: float = 500.0
    pool_usage_warn: float = 0.9
    gc_warn_ratio: float = 0.08
    gc_crit_ratio: float = 0.20

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> Grading:
        """The thresholds of the first check of each kind in `playbook`; defaults for kinds
        it does not have."""
        params = _first_params_by_kind(playbook)
        found: dict[str, Any] = {}
        for name, (kind, parameter) in _PLAYBOOK_PARAMETERS.items():
            if kind in params and hasattr(params[kind], parameter):
                found[name] = float(getattr(params[kind], parameter))
        return cls(**found)

    @property
    def lag_fine_s(self) -> float:
        return self.lag_fine_ms / 1000

    @property
    def lag_warn_s(self) -> float:
        return self.lag_warn_ms / 1000

    @property
    def lag_crit_s(self) -> float:
        return self.lag_crit_ms / 1000

    def over_objective(self, ratio: float) -> Grade:
        """A latency `ratio` times its objective: over it is warn, `latency_crit_factor`
        times it or more is crit."""
        if ratio >= self.latency_crit_factor:
            return "crit"
        return "warn" if ratio > 1 else "ok"

    def latency(self, value_s: float, target_s: float) -> Grade:
        return self.over_objective(value_s / target_s)

    def error_thresholds(self, availability_percent: float | None) -> tuple[float, float]:
        """The (warn, crit) error ratios: the playbook's, or the error budget when larger."""
        budget = error_budget(availability_percent) or 0.0
        warn = max(self.errors_warn_ratio, budget)
        return warn, max(self.errors_crit_ratio, warn)

    def error_ratio(self, ratio: float, availability_percent: float | None) -> Grade:
        return by_thresholds(ratio, *self.error_thresholds(availability_percent))

    def lag(self, value_s: float) -> Grade:
        return by_thresholds(value_s, self.lag_warn_s, self.lag_crit_s)

    def gc(self, ratio: float) -> Grade:
        return by_thresholds(ratio, self.gc_warn_ratio, self.gc_crit_ratio)

    def traffic(self, rate: float, planned_peak: float | None) -> Grade:
        """Above the catalog's planned peak is worth a look."""
        return "warn" if planned_peak and rate > planned_peak else "ok"

    def pool(self, used: float, size: float | None, pending: float) -> Grade:
        """Nearly every connection checked out, or requests waiting: warn; both: crit."""
        busy = bool(size) and used >= self.pool_usage_warn * float(size or 0)
        if busy and pending:
            return "crit"
        return "warn" if busy or pending else "ok"


def by_thresholds(value: float, warn: float, crit: float) -> Grade:
    if value >= crit:
        return "crit"
    return "warn" if value >= warn else "ok"


def error_budget(availability_percent: float | None) -> float | None:
    """The share of requests allowed to fail; None without an objective."""
    return None if availability_percent is None else 1 - availability_percent / 100


def burn_rate(error_ratio: float, availability_percent: float | None) -> float | None:
    """Errors against the budget: 1.0 spends it exactly over the objective's window."""
    budget = error_budget(availability_percent)
    return error_ratio / budget if budget else None


def burn(rate: float) -> Grade:
    """A burn rate: within budget, spending it too fast, or gone within days."""
    if rate <= 1:
        return "ok"
    return "crit" if rate >= FAST_BURN else "warn"


def budget_left(left: float) -> Grade:
    """The share of the error budget still unspent."""
    if left > BUDGET_LOW:
        return "ok"
    return "warn" if left > 0 else "crit"


def worst(grades: list[Grade]) -> Grade:
    order: dict[Grade, int] = {"ok": 0, "warn": 1, "crit": 2}
    return max(grades, key=order.__getitem__, default="ok")


def _first_params_by_kind(playbook: Playbook) -> dict[str, object]:
    found: dict[str, object] = {}
    for step in playbook.steps:
        for check in step.checks:
            found.setdefault(check.kind.kind, check.params)
    return found
