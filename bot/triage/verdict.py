"""What a diagnosis rule returns: a cause, how sure it is, why, and what to do.

def my_rule(facts: Facts) -> Verdict | None:
    if not facts.flagged("queue_depth"):
        return None
    return Verdict("slow_endpoint", 0.6, f"Work queues up: {facts.summary('queue_depth')}.",
                   ("queue_depth",))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.models import Cause
from bot.triage.facts import Facts


@dataclass(frozen=True)
class Verdict:
    cause: Cause
    base_confidence: float
    summary: str
    supporting: tuple[str, ...]
    advice: str = ""


Rule = Callable[[Facts], Verdict | None]
