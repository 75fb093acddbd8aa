"""What the diagnosis must have seen before it may call a service healthy.

A clean checklist proves nothing if the event loop or memory were never measured: the loop
could be blocked and nobody would know. Nor does it if an instance stopped answering its
scrapes: the checks saw only the others. Each gap names what is missing and how to get it.
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


SILENT_INSTANCES = "instances_silent"


def missing_evidence(facts: Facts) -> list[KeyEvidence]:
    """Key evidence whose step ran without a finding (skipped for want of metrics), and the
    instances that stopped answering scrapes."""
    ran = {step.id for step in facts.steps}
    gaps = [
        key
        for key in KEY_EVIDENCE
        if key.step in ran and not any(facts.measured(code) for code in key.codes)
    ]
    silent = _silent_instances(facts)
    return [*gaps, silent] if silent else gaps


def _silent_instances(facts: Facts) -> KeyEvidence | None:
    if not facts.flagged(SILENT_INSTANCES):
        return None
    names = facts.text(SILENT_INSTANCES, "silent") or "some instances"
    return KeyEvidence(
        f"anything from {names}",
        "event_loop",
        (SILENT_INSTANCES,),
        f"find out why {names} stopped answering Prometheus (stuck or gone) and replace it",
    )


def gaps_sentence(gaps: list[KeyEvidence]) -> str:
    names = " and ".join(gap.name for gap in gaps)
    hows = "; ".join(gap.how for gap in gaps)
    return f"Not measured: {names}. To measure it, {hows}."
