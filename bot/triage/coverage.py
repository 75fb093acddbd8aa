"""What the diagnosis must have seen before it may call a service healthy.

A clean checklist proves nothing if the event loop or memory were never measured: the loop
could be blocked and nobody would know. Each gap names what is missing and how to export it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.triage.facts import Facts


@dataclass(frozen=True)
class KeyEvidence:
    name: str
    step: str  # the playbook step that measures it; a triage without that step needs none
    codes: tuple[str, ...]  # any of these findings counts as measured
    how: str


KEY_EVIDENCE: tuple[KeyEvidence, ...] = (
    KeyEvidence(
        "event-loop lag",
        "event_loop",
        ("eventloop_lag",),
        "export event-loop lag: prom-client's collectDefaultMetrics() (under any prefix) or "
        "the OpenTelemetry runtime-node instrumentation",
    ),
    KeyEvidence(
        "memory (heap and GC)",
        "memory",
        ("heap_growth", "gc_time"),
        "export heap and GC metrics: the same default metrics, or the OpenTelemetry "
        "runtime-node instrumentation",
    ),
)


def missing_evidence(facts: Facts) -> list[KeyEvidence]:
    """Key evidence whose step ran without a finding (skipped for want of metrics)."""
    ran = {step.id for step in facts.steps}
    return [
        key
        for key in KEY_EVIDENCE
        if key.step in ran and not any(facts.measured(code) for code in key.codes)
    ]


def gaps_sentence(gaps: list[KeyEvidence]) -> str:
    names = " and ".join(gap.name for gap in gaps)
    hows = "; ".join(gap.how for gap in gaps)
    return f"Not measured: {names}. To measure it, {hows}."
