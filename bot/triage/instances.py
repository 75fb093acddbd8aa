"""Per-instance readings: which of a service's instances (pods, else scrape targets) show a
finding.

A flagged finding is evaluated again on each instance's own series, with the same check and
parameters; the instances where it is flagged again are the ones affected. Series that carry
no instance (service totals, latency quantiles, per-dependency figures) cannot be split, so
findings that rest on them get no scope.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bot.models import Finding, InstanceScope
from bot.sources.base import RangeSeries
from bot.triage.checks.base import CheckContext, CheckSkipped, CheckUnknown
from bot.triage.playbook import CheckSpec
from bot.triage.series import instance_name
from bot.triage.source import Fetched

MAX_INSTANCES = 100  # beyond this the per-instance pass costs more than it tells
_FLAGGED = {"warn", "crit"}

log = structlog.get_logger(__name__)


def by_instance(fetched: Fetched, pod_label: str) -> dict[str, Fetched]:
    """The fetched series regrouped per instance; series without an instance are left out."""
    tables: dict[str, dict[str, list[RangeSeries]]] = {}
    for key, found in fetched.series.items():
        for one in found:
            name = instance_name(one.labels, pod_label)
            if name is not None and one.points:
                tables.setdefault(name, {}).setdefault(key, []).append(one)
    return {name: Fetched(series=table, queries=fetched.queries) for name, table in tables.items()}


def scoped(spec: CheckSpec, context: CheckContext, found: Sequence[Finding]) -> list[Finding]:
    """`found` with a scope on every flagged finding the instances' own series can explain."""
    flagged = {one.code for one in found if one.severity in _FLAGGED}
    instances = by_instance(context.data, context.pod_label) if flagged else {}
    if not instances or len(instances) > MAX_INSTANCES:
        return list(found)
    evaluated, affected = _per_instance(spec, context, instances, flagged)
    if not evaluated:
        return list(found)
    return [
        one.model_copy(
            update={
                "scope": InstanceScope(
                    instances_total=evaluated, instances_affected=tuple(affected[one.code])
                )
            }
        )
        if one.code in flagged
        else one
        for one in found
    ]


def _per_instance(
    spec: CheckSpec,
    context: CheckContext,
    instances: dict[str, Fetched],
    codes: set[str],
) -> tuple[int, dict[str, list[str]]]:
    affected: dict[str, list[str]] = {code: [] for code in codes}
    evaluated = 0
    for name, data in sorted(instances.items()):
        alone = CheckContext(
            service=context.service,
            window=context.window,
            data=data,
            targets=context.targets,
            pod_label=context.pod_label,
        )
        try:
            found = spec.kind.evaluate(spec.params, alone)
        except (CheckSkipped, CheckUnknown):
            continue  # this instance cannot tell; it is not counted
        except Exception:  # a check's bug on one instance must not cost the finding
            log.exception("triage_instance_check_crashed", kind=spec.kind.kind, instance=name)
            continue
        evaluated += 1
        for one in found:
            if one.code in affected and one.severity in _FLAGGED:
                affected[one.code].append(name)
    return evaluated, affected
