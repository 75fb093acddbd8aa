"""Plain-text rendering of a triage report for terminals: diagnosis first, then the checklist."""

from __future__ import annotations

from bot.models import Finding, Status, StepResult, TriageReport

MARKS: dict[Status, str] = {"ok": "✔", "warn": "⚠", "crit": "✖", "unknown": "?"}
_QUIET = {"not_measured"}


def render_report(report: TriageReport) -> str:
    diagnosis = report.diagnosis
    lines = [
        f"{report.service} · last {report.window} · {report.duration_ms} ms",
        "",
        f"Diagnosis: {diagnosis.cause.replace('_', ' ')} (confidence {diagnosis.confidence:.0%})",
        f"  {diagnosis.summary}",
    ]
    if diagnosis.advice:
        lines.append(f"  What to do: {diagnosis.advice}")
    if report.backend_errors:
        lines += ["", "Metrics backend problems:"]
        lines += [f"  - {error}" for error in report.backend_errors]
    lines += ["", "Checklist:"]
    for step in report.steps:
        lines += render_step(step)
    return "\n".join(lines)


def render_step(step: StepResult) -> list[str]:
    lines = [f"  {MARKS[step.status]} {step.title} [{step.status}]"]
    for finding in step.findings:
        if finding.code not in _QUIET:
            lines.append(f"      {_bullet(finding)} {finding.summary}")
    return lines


def _bullet(finding: Finding) -> str:
    return {"crit": "✖", "warn": "⚠"}.get(finding.severity, "·")
