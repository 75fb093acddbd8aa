"""The diagnosis in words about its scope: one bad instance, some, or every one of them.

The advice differs: a problem on one pod of many is that pod's (replace or drain it, then
find what is different about it); a problem on all of them is the code's or the load's.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Diagnosis, Finding, InstanceScope, StepResult

NAMES_SHOWN = 5


def with_scope(
    diagnosis: Diagnosis, steps: Sequence[StepResult], known: InstanceScope | None = None
) -> Diagnosis:
    """The diagnosis with the scope of its first supporting finding that has one, unless the
    scope is `known` (read since the change the problem began with)."""
    scope = known or _supporting_scope(diagnosis.supporting, steps)
    if scope is None or scope.instances_total < 2:
        return diagnosis.model_copy(update={"scope": scope}) if scope else diagnosis
    return diagnosis.model_copy(
        update={
            "scope": scope,
            "summary": f"{diagnosis.summary} {scope_sentence(scope)}",
            "advice": f"{scope_advice(scope)} {diagnosis.advice}".strip(),
        }
    )


def _supporting_scope(
    supporting: Sequence[str], steps: Sequence[StepResult]
) -> InstanceScope | None:
    found: dict[str, Finding] = {
        one.code: one for step in steps for one in step.findings if one.scope is not None
    }
    for code in supporting:
        if code in found:
            return found[code].scope
    return None


def names(instances: Sequence[str]) -> str:
    shown = ", ".join(instances[:NAMES_SHOWN])
    hidden = len(instances) - NAMES_SHOWN
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def scope_sentence(scope: InstanceScope) -> str:
    total, affected = scope.instances_total, scope.instances_affected
    if scope.everywhere:
        return f"All {total} instances show it."
    if not affected:
        return f"No single one of the {total} instances crosses the threshold on its own."
    return f"Only {len(affected)} of {total} instances show it: {names(affected)}."


def scope_advice(scope: InstanceScope) -> str:
    if scope.everywhere:
        return (
            "Every instance is affected, so replacing or draining pods will not help: "
            "look at the code, the load or something they all share."
        )
    if not scope.instances_affected:
        return ""
    return (
        f"Start with {names(scope.instances_affected)}: take it out of rotation (delete the "
        "pod so a fresh one replaces it, or drain it) and compare it with the healthy "
        "instances: node, version, configuration, share of traffic."
    )
