"""Did the problem begin right after a change? Then say so, and advise rolling back first.

The check behind the diagnosis is evaluated again on the data before a change and on the
data from the change until `within_s` after it: flagged after, and measured but not flagged
before, means the problem began with the change. Changes that can be undone (a deploy, a
new version, image or ReplicaSet) are preferred over a bare restart, later ones over earlier.
The scope of a problem blamed on a change is read on the data since the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Change, Diagnosis, InstanceScope, StepResult
from bot.sources.base import RangeSeries
from bot.triage.checks.base import CheckContext, CheckSkipped, CheckUnknown
from bot.triage.checks.recent_changes import describe
from bot.triage.instances import scoped
from bot.triage.playbook import CheckSpec
from bot.triage.source import Fetched
from bot.triage.window import Window

UNDOABLE = frozenset({"deploy", "version", "image", "replicaset"})
# Which of several changes to name when they came together: the one a person rolls back.
RANK = {"deploy": 4, "version": 3, "image": 2, "replicaset": 1, "restart": 0}
MAX_CHANGES = 20
_QUIET = frozenset({"healthy", "insufficient_data"})


@dataclass(frozen=True)
class Evaluated:
    """One step's checks and the context they were evaluated in."""

    step_id: str
    specs: Sequence[CheckSpec]
    context: CheckContext


def blamed_change(
    diagnosis: Diagnosis,
    steps: Sequence[StepResult],
    evaluated: Sequence[Evaluated],
    within_s: float,
) -> Change | None:
    """The change the diagnosed problem began right after, if any."""
    changes = _changes(steps)
    if not changes or diagnosis.cause in _QUIET or not diagnosis.supporting:
        return None
    return _trigger(diagnosis.supporting[0], changes, steps, evaluated, within_s)


def scope_since(
    change: Change, code: str, steps: Sequence[StepResult], evaluated: Sequence[Evaluated]
) -> InstanceScope | None:
    """Which instances show `code` on the data since `change`. Right after a rollout to every
    pod, most pods have not yet shown the problem for the share of the whole window a check
    needs, and would read as healthy beside the one that got there first."""
    for run in _runs_of(code, steps, evaluated):
        since = _sliced(run.context, change.at, run.context.window.end)
        for spec in run.specs:
            try:
                found = spec.kind.evaluate(spec.params, since)
            except (CheckSkipped, CheckUnknown):
                continue
            for one in scoped(spec, since, found):
                if one.code == code and one.scope is not None:
                    return one.scope
    return None


def with_changes(
    diagnosis: Diagnosis, steps: Sequence[StepResult], trigger: Change | None, within_s: float
) -> Diagnosis:
    """The diagnosis with what changed, and blaming `trigger` (see `blamed_change`)."""
    changes = _changes(steps)
    if not changes:
        return diagnosis
    update: dict[str, object] = {"changes": tuple(changes)}
    if trigger is not None:
        update |= _blame(diagnosis, trigger, changes, within_s)
    return diagnosis.model_copy(update=update)


def _changes(steps: Sequence[StepResult]) -> list[Change]:
    return sorted(
        (change for step in steps for one in step.findings for change in one.changes),
        key=lambda change: change.at,
    )[-MAX_CHANGES:]


def _blame(
    diagnosis: Diagnosis, trigger: Change, changes: Sequence[Change], within_s: float
) -> dict[str, object]:
    minutes = f"{within_s / 60:g} min"
    sentence = f"It began within {minutes} after a change: {describe(trigger)}."
    undo = sorted(
        (c for c in changes if c.kind in UNDOABLE and abs(c.at - trigger.at) <= within_s),
        key=lambda c: RANK[c.kind],
    )
    if trigger.kind in UNDOABLE or undo:
        undone = trigger if trigger.kind in UNDOABLE else undo[-1]
        advice = (
            f"Roll back first ({undone.kind}: {undone.detail}): the problem began right after "
            "it. Once the service is healthy again, look for the cause in what the change did."
        )
    else:
        advice = (
            "It began when the process restarted: if the restart brought a new image, "
            "configuration or node, undo that first."
        )
    return {
        "summary": f"{diagnosis.summary} {sentence}",
        "advice": f"{advice} {diagnosis.advice}".strip(),
    }


def _trigger(
    code: str,
    changes: Sequence[Change],
    steps: Sequence[StepResult],
    evaluated: Sequence[Evaluated],
    within_s: float,
) -> Change | None:
    runs = _runs_of(code, steps, evaluated)
    ordered = sorted(changes, key=lambda c: (RANK[c.kind], c.at), reverse=True)
    for change in ordered:
        for run in runs:
            began = (_began_after(code, change.at, s, run.context, within_s) for s in run.specs)
            if any(began):
                return change
    return None


def _runs_of(
    code: str, steps: Sequence[StepResult], evaluated: Sequence[Evaluated]
) -> list[Evaluated]:
    step_id = next((s.id for s in steps for f in s.findings if f.code == code), None)
    return [run for run in evaluated if run.step_id == step_id]


def _began_after(
    code: str, at: float, spec: CheckSpec, context: CheckContext, within_s: float
) -> bool:
    window = context.window
    if not window.start < at < window.end:
        return False
    before = _flagged(code, spec, _sliced(context, window.start, at))
    after = _flagged(code, spec, _sliced(context, at, min(window.end, at + within_s)))
    return after is True and before is False


def _flagged(code: str, spec: CheckSpec, context: CheckContext) -> bool | None:
    """Whether the check flags `code` on this data; None when it cannot tell."""
    try:
        found = spec.kind.evaluate(spec.params, context)
    except (CheckSkipped, CheckUnknown):
        return None
    return any(one.code == code and one.severity in {"warn", "crit"} for one in found)


def _sliced(context: CheckContext, start: float, end: float) -> CheckContext:
    series = {
        key: [
            RangeSeries(one.labels, [(t, v) for t, v in one.points if start <= t <= end])
            for one in found
        ]
        for key, found in context.data.series.items()
    }
    window = Window(text=context.window.text, seconds=max(1, round(end - start)), end=end)
    return CheckContext(
        service=context.service,
        window=window,
        data=Fetched(series=series, queries=context.data.queries),
        targets=context.targets,
        pod_label=context.pod_label,
    )
