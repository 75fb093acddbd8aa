"""From every cause the rules recognise to one primary cause and what else was found.

Each rule that fires is a candidate, scored by its share of the user-visible symptom
(bot/triage/impact.py). Walking the rule order, a candidate that a kept cause inflates (GC time
under a leak, dependency timings under a blocked loop) is folded into it unless it explains a
large part of the symptom beyond the inflating cause's own share, or moved well before it
(bot/triage/onset.py): then it is a second fault.
The primary cause is the kept candidate explaining the most; an unmeasured share counts as the
smallest that explains, so without a symptom the rule order decides, as it always did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.models import Cause
from bot.triage.impact import CATCH_ALL, INFLATES
from bot.triage.onset import LEAD_SECONDS
from bot.triage.verdict import Verdict

MIN_SHARE = 0.25  # a cause explaining less than this of the symptom is not its cause
MAX_SECONDARY = 3


@dataclass(frozen=True)
class Candidate:
    verdict: Verdict
    share: float | None  # of the user-visible symptom; None: not measurable
    order: int  # the rule's place in the rule order
    onset: float | None = None  # when its headline signal moved in the window (see onset.py)

    @property
    def cause(self) -> Cause:
        return self.verdict.cause

    @property
    def explains(self) -> bool:
        return self.share is None or self.share >= MIN_SHARE

    @property
    def weight(self) -> float:
        return MIN_SHARE if self.share is None else self.share


@dataclass(frozen=True)
class Ranking:
    primary: Candidate | None
    secondary: tuple[Candidate, ...]  # second faults first, then findings explaining nothing
    folded: tuple[Candidate, ...]  # consequences of a kept cause


def rank(candidates: Sequence[Candidate]) -> Ranking:
    kept: list[Candidate] = []
    folded: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: c.order):
        inflaters = [k for k in kept if candidate.cause in INFLATES.get(k.cause, frozenset())]
        if inflaters and not _moved_first(candidate, inflaters):
            residual = _residual(candidate, inflaters)
            if residual is None or residual < MIN_SHARE:
                folded.append(candidate)
                continue
            kept.append(replace(candidate, share=residual))
            continue
        kept.append(candidate)
    explaining = [c for c in kept if c.explains]
    primary = max(explaining, key=lambda c: (c.weight, -c.order)) if explaining else None
    others = sorted(
        (c for c in kept if c is not primary),
        key=lambda c: (not c.explains, -(c.share or 0.0), c.order),
    )
    return Ranking(primary, tuple(others[:MAX_SECONDARY]), tuple(folded))


def _moved_first(candidate: Candidate, inflaters: list[Candidate]) -> bool:
    """It moved well before everything said to inflate it: a cause of its own, not an echo."""
    onsets = [k.onset for k in inflaters]
    if candidate.onset is None or any(at is None for at in onsets):
        return False
    return candidate.onset < min(at for at in onsets if at is not None) - LEAD_SECONDS


def _residual(candidate: Candidate, inflaters: list[Candidate]) -> float | None:
    """What the candidate explains beyond what the causes inflating it already do."""
    if candidate.share is None or any(k.share is None for k in inflaters):
        return None
    if candidate.cause in CATCH_ALL:
        return None
    return round(candidate.share - max(k.share or 0.0 for k in inflaters), 3)
