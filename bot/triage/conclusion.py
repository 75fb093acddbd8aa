"""The diagnosis from ranked candidates: the cause with its share of the symptom, which signal
moved first, second faults, what went unmeasured, and a confidence that says all of it.

Without a cause that explains anything, the service is healthy (what stood out is listed
beside it, a busy core gets a capacity note), unless the event loop or memory went unmeasured:
then it is `insufficient_data`, naming what to export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.models import Cause, Diagnosis, SecondaryCause
from bot.triage.coverage import SILENT_INSTANCES, gaps_sentence, missing_evidence
from bot.triage.facts import Facts
from bot.triage.impact import Symptom
from bot.triage.onset import finding_onset, order_sentence
from bot.triage.ranking import Candidate, Ranking
from bot.triage.verdict import Verdict

GAP_PENALTY = 0.1
WEAK_CONFIDENCE = 0.5
SIGNAL_NAMES = {
    "eventloop_lag": "event-loop lag",
    "gc_time": "GC time",
    "cpu_busy": "CPU",
    "heap_growth": "the heap",
    "rss_growth": "memory outside the heap",
    "db_op_latency": "database time",
    "db_pool_waiting": "pool waits",
    "db_pool_usage": "pool use",
    "downstream_latency": "dependency latency",
    "downstream_errors": "dependency errors",
    "service_errors": "request errors",
    "outbound_fanout": "outbound calls",
}
COMPOUND_PENALTY = 0.05

Fallback = Callable[[Facts], Verdict]


def conclude(facts: Facts, symptom: Symptom, ranking: Ranking, fallback: Fallback) -> Diagnosis:
    """`fallback` names something flagged that no rule recognises, weakly."""
    if ranking.primary is None or _only_a_guess(ranking.primary, facts):
        return _without_cause(facts, symptom, ranking, fallback)
    return _finish(ranking.primary, ranking, facts, symptom)


def candidate_onset(verdict: Verdict, facts: Facts) -> float | None:
    """When the verdict's headline finding moved in the window."""
    return finding_onset(facts.finding(verdict.supporting[0])) if verdict.supporting else None


def _only_a_guess(primary: Candidate, facts: Facts) -> bool:
    """A catch-all cause (latency over objective, nothing to blame) while the loop or memory
    went unmeasured: what was not seen is the likelier answer, so say that instead."""
    return primary.verdict.base_confidence <= WEAK_CONFIDENCE and bool(missing_evidence(facts))


def _order_sentence(primary: Candidate, ranking: Ranking) -> str:
    """Which moved first: the cause and the first consequence (or second fault) beside it."""
    others = [*ranking.folded, *(c for c in ranking.secondary if c.explains)]
    timed = [c for c in others if c.onset is not None]
    if primary.onset is None or not timed:
        return ""
    return order_sentence(
        (_signal_name(primary), primary.onset), (_signal_name(timed[0]), timed[0].onset)
    )


def _signal_name(candidate: Candidate) -> str:
    code = candidate.verdict.supporting[0]
    return SIGNAL_NAMES.get(code, code.replace("_", " "))


def _finish(primary: Candidate, ranking: Ranking, facts: Facts, symptom: Symptom) -> Diagnosis:
    verdict = primary.verdict
    confidence = verdict.base_confidence
    if any(facts.critical(code) for code in verdict.supporting):
        confidence += 0.05
    summary = verdict.summary + _share_sentence(primary, symptom)
    summary += _order_sentence(primary, ranking)
    compound = [c for c in ranking.secondary if c.explains]
    if compound:
        confidence -= COMPOUND_PENALTY
        summary += " " + _compound_sentence(compound)
    gaps = missing_evidence(facts)
    if gaps:
        confidence -= GAP_PENALTY * len(gaps)
        summary += " " + gaps_sentence(gaps)
    return _diagnosis(
        verdict.cause, confidence, summary, facts, verdict=verdict, primary=primary, ranking=ranking
    )


def _diagnosis(
    cause: Cause,
    confidence: float,
    summary: str,
    facts: Facts,
    *,
    verdict: Verdict,
    primary: Candidate | None,
    ranking: Ranking,
) -> Diagnosis:
    confidence -= 0.05 * facts.unknown_steps()
    return Diagnosis(
        cause=cause,
        confidence=round(min(0.97, max(0.05, confidence)), 2),
        summary=summary,
        supporting=verdict.supporting,
        advice=verdict.advice or facts.advice(*verdict.supporting),
        share=primary.share if primary else None,
        secondary=tuple(_secondary(c) for c in ranking.secondary),
    )


def _secondary(candidate: Candidate) -> SecondaryCause:
    return SecondaryCause(
        cause=candidate.cause, share=candidate.share, summary=candidate.verdict.summary
    )


def _share_sentence(primary: Candidate, symptom: Symptom) -> str:
    if primary.share is None or not symptom.present:
        return ""
    return f" It accounts for {primary.share:.0%} of what users see ({symptom.describe()})."


def _compound_sentence(compound: list[Candidate]) -> str:
    parts = [f"{_words(c.cause)} ({_share(c)})" for c in compound]
    return f"A second fault explains a large part too: {', '.join(parts)}."


def _share(candidate: Candidate) -> str:
    return "share not measured" if candidate.share is None else f"{candidate.share:.0%}"


def _words(cause: str) -> str:
    return cause.replace("_", " ")


def _without_cause(
    facts: Facts, symptom: Symptom, ranking: Ranking, fallback: Fallback
) -> Diagnosis:
    """Nothing explains a symptom: healthy if all key evidence was seen, else say what is not."""
    verdict = ranking.primary.verdict if ranking.primary else healthy(facts, symptom, ranking)
    if verdict is None:
        verdict = fallback(facts)
    gaps = missing_evidence(facts)
    if gaps and (verdict.cause == "healthy" or ranking.primary is not None):
        summary = "Nothing stands out in what could be measured, but that is not enough to "
        summary += "name a cause or call the service healthy."
        if symptom.present:
            summary += f" Users do feel it: {symptom.describe()}."
        summary += f" {gaps_sentence(gaps)}"
        confidence = 0.8 - GAP_PENALTY * (len(gaps) - 1)
        cause: Cause = "insufficient_data"
        # What to do about a gap a check saw (an instance gone silent) is that check's advice.
        seen = [code for gap in gaps for code in gap.codes if facts.flagged(code)]
        verdict = dataclasses.replace(verdict, advice=verdict.advice or facts.advice(*seen))
    else:
        cause, confidence, summary = verdict.cause, verdict.base_confidence, verdict.summary
    return _diagnosis(
        cause, confidence, summary, facts, verdict=verdict, primary=None, ranking=ranking
    )


def healthy(facts: Facts, symptom: Symptom, ranking: Ranking) -> Verdict | None:
    """No cause explains anything users see; what was found anyway is listed beside it.
    None when something is flagged (or users feel something) that no rule recognises."""
    # Silent instances are not a cause: they are what the triage could not see (a gap).
    flagged = facts.anything_wrong(ignoring=frozenset({SILENT_INSTANCES}))
    if symptom.present or (not ranking.secondary and flagged):
        return None
    summary = "Every step of the checklist is within its thresholds."
    confidence = 0.9
    if ranking.secondary:
        summary = "Requests are served within their objectives; what stands out below explains "
        summary += "none of what users see."
        confidence = 0.75
    summary += _capacity_note(facts)
    unknown = facts.unknown_steps()
    if unknown:
        summary += f" {unknown} step(s) could not be checked, so this is not the full picture."
    return Verdict("healthy", confidence, summary, ())


def _capacity_note(facts: Facts) -> str:
    if not facts.flagged("cpu_busy"):
        return ""
    note = f" Capacity: the process is busy ({facts.summary('cpu_busy')}) while requests stay "
    return note + "within objective; plan headroom before traffic grows."
