"""A read-only view over a triage's step results, for the diagnosis rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Finding, Severity, StepResult

_NOTES = {"not_measured", "check_failed"}


@dataclass(frozen=True)
class Facts:
    steps: Sequence[StepResult]

    def finding(self, code: str) -> Finding | None:
        for step in self.steps:
            for one in step.findings:
                if one.code == code:
                    return one
        return None

    def severity(self, code: str) -> Severity | None:
        found = self.finding(code)
        return found.severity if found else None

    def flagged(self, code: str) -> bool:
        """The finding exists at warn or crit."""
        return self.severity(code) in {"warn", "crit"}

    def critical(self, code: str) -> bool:
        return self.severity(code) == "crit"

    def number(self, code: str, key: str) -> float | None:
        found = self.finding(code)
        value = found.evidence.observed.get(key) if found else None
        return float(value) if isinstance(value, int | float) else None

    def text(self, code: str, key: str) -> str | None:
        found = self.finding(code)
        value = found.evidence.observed.get(key) if found else None
        return None if value is None else str(value)

    def summary(self, code: str) -> str:
        found = self.finding(code)
        return found.summary if found else ""

    def advice(self, *codes: str) -> str:
        for code in codes:
            found = self.finding(code)
            if found and found.advice:
                return found.advice
        return ""

    def flagged_findings(self) -> list[tuple[str, Finding]]:
        """(step id, finding) for every warn/crit finding, worst first, checklist order within."""
        found = [
            (step.id, one)
            for step in self.steps
            for one in step.findings
            if one.severity != "info" and one.code not in _NOTES
        ]
        return sorted(found, key=lambda pair: pair[1].severity != "crit")

    def measured(self, code: str) -> bool:
        """A check produced this finding (it was not skipped for want of metrics)."""
        return self.finding(code) is not None

    def unknown_steps(self) -> int:
        return sum(1 for step in self.steps if step.status == "unknown")

    def anything_wrong(self, ignoring: frozenset[str] = frozenset()) -> bool:
        """Some finding is flagged, other than those `ignoring` names."""
        return any(
            one.severity in {"warn", "crit"} and one.code not in ignoring
            for step in self.steps
            for one in step.findings
        )
