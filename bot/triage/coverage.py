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
    codes: tuple[str, ...]  # any of these findings counts as measured
    how: str


KEY_EVIDENCE: tuple[KeyEvidence, ...] = (
    KeyEvidence(
        "event-loop lag",
        ("eventloop_lag",),
        "export event-loop lag: prom-client's collectDefaultMetrics() (under any prefix) or "
        "the OpenTelemetry runtime-node instrumentation",
    ),
    KeyEvidence(
        "memory (heap and GC)",
        ("heap_growth", "gc_time"),
        "export heap and GC metrics: the same default metrics, or the OpenTelemetry "
        "runtime-node instrumentation",
    ),
)


def missing_evidence(facts: Facts) -> list[KeyEvidence]:
    """Key evidence with no finding at all (its checks were skipped for want of metrics)."""
    return [key for key in KEY_EVIDENCE if not any(facts.measured(c) for c in key.codes)]


def gaps_sentence(gaps: list[KeyEvidence]) -> str:
    names = " and ".join(gap.name for gap in gaps)
    hows = "; ".join(gap.how for gap in gaps)
    return f"Not measured: {names}. To measure it, {hows}."
