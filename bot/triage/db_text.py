"""The database step alone, for `python -m bot triage SERVICE --db`: every finding and what to do.

print(render_database_report(report))   # a report run with steps={"database"}
"""

from __future__ import annotations

from bot.models import TriageReport
from bot.triage.text import MARKS

_QUIET = {"not_measured"}


def render_database_report(report: TriageReport) -> str:
    lines = [f"{report.service} · database step · last {report.window} · {report.duration_ms} ms"]
    for step in report.steps:
        lines += ["", f"{MARKS[step.status]} {step.title} [{step.status}]"]
        for finding in step.findings:
            if finding.code in _QUIET:
                continue
            mark = {"crit": "✖", "warn": "⚠"}.get(finding.severity, "·")
            lines.append(f"  {mark} {finding.summary}")
            if finding.advice and finding.severity != "info":
                lines.append(f"      what to do: {finding.advice}")
    diagnosis = report.diagnosis
    cause = diagnosis.cause.replace("_", " ")
    lines += ["", f"From the database step alone: {cause} ({diagnosis.confidence:.0%})"]
    lines.append("  (run the full triage to weigh it against the event loop, memory and calls)")
    if report.backend_errors:
        lines += ["", "Metrics backend problems:"]
        lines += [f"  - {error}" for error in report.backend_errors]
    return "\n".join(lines)
