"""Plain-text rendering of a triage report for terminals: diagnosis first, then the checklist.

When the metrics backend is down every check fails for the same reason: the reason is printed
once, under "Metrics backend problems", and each step lists its affected checks on one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Finding, MetricsDetected, Status, StepResult, TriageReport
from bot.profiling.text import profile_lines
from bot.triage.service_source import PROMETHEUS_DOWN

MARKS: dict[Status, str] = {"ok": "✔", "warn": "⚠", "crit": "✖", "unknown": "?"}
_QUIET = {"not_measured"}
_FAILED = "check_failed"


def render_report(report: TriageReport) -> str:
    diagnosis = report.diagnosis
    lines = [
        f"{report.service} · last {report.window} · {report.duration_ms} ms",
        "",
        f"Diagnosis: {diagnosis.cause.replace('_', ' ')} (confidence {diagnosis.confidence:.0%})",
        f"  {_without_backend_errors(diagnosis.summary, report.backend_errors)}",
    ]
    if diagnosis.advice:
        lines.append(f"  What to do: {diagnosis.advice}")
    lines += secondary_lines(report)
    if report.profile is not None:
        lines += ["", *profile_lines(report.profile)]
    if report.metrics is not None:
        lines += ["", f"Metrics: {metrics_origin(report.metrics)}"]
    if report.backend_errors:
        lines += ["", "Metrics backend problems:"]
        lines += [f"  - {error}" for error in report.backend_errors]
    lines += ["", "Checklist:"]
    for step in report.steps:
        lines += render_step(step, report.backend_errors)
    return "\n".join(lines)


def secondary_lines(report: TriageReport) -> list[str]:
    if not report.diagnosis.secondary:
        return []
    lines = ["", "Also found:"]
    for other in report.diagnosis.secondary:
        lines.append(
            f"  - {other.cause.replace('_', ' ')} ({share_text(other.share)}): {other.summary}"
        )
    return lines


def share_text(share: float | None) -> str:
    if share is None:
        return "share of the symptom not measured"
    return f"{share:.0%} of the symptom"


def metrics_origin(metrics: MetricsDetected) -> str:
    """`prom-client names under prefix shop_`, for the report's footer."""
    if metrics.convention == "unknown":
        return "no known naming convention detected (see the catalog's `metrics` overrides)"
    text = f"{metrics.convention} names"
    return text + (f" under prefix {metrics.prefix}" if metrics.prefix else "")


def render_step(step: StepResult, backend_errors: Sequence[str] = ()) -> list[str]:
    lines = [f"  {MARKS[step.status]} {step.title} [{step.status}]"]
    blocked: list[str] = []
    for finding in step.findings:
        if finding.code in _QUIET:
            continue
        if _blocked_by_backend(finding, backend_errors):
            blocked.append(str(finding.evidence.observed.get("check") or finding.code))
            continue
        lines.append(f"      {_bullet(finding)} {finding.summary}")
    if blocked:
        lines.append(f"      · not checked, backend unreachable: {', '.join(blocked)}")
    return lines


def _blocked_by_backend(finding: Finding, backend_errors: Sequence[str]) -> bool:
    """A check that could not tell only because the backend (reported above) was down."""
    if finding.code != _FAILED or not backend_errors:
        return False
    reasons = [*backend_errors, PROMETHEUS_DOWN]
    return any(reason in finding.summary for reason in reasons)


def _without_backend_errors(summary: str, backend_errors: Sequence[str]) -> str:
    for error in backend_errors:
        summary = summary.replace(error, "see the metrics backend problems below")
    return summary


def _bullet(finding: Finding) -> str:
    return {"crit": "✖", "warn": "⚠"}.get(finding.severity, "·")
