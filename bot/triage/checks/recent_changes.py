"""What changed around the service: restarts, new versions and deploys in the window.

Restarts come from each instance's `process_start_time_seconds` (a new value is a new
process); versions from `target_info`'s `service_version`, the `version` label of any
`*_build_info` or `app_info` gauge, and `nodejs_version_info`; deploys from the events
sent to `POST /events/deploy`. A change is not a problem, so the finding stays `info`;
the diagnosis asks whether the problem began right after one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence

from pydantic import Field

from bot.models import Change, Finding
from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckParams, finding

START = "changes:start"
VERSION_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    # key, query template, label holding the version, how to call it
    ("changes:target_info", "target_info{$selector}", "service_version", "service version"),
    ("changes:build_info", '{__name__=~".+_build_info|app_info", $selector}', "version", "build"),
    ("changes:nodejs_version", "nodejs_version_info{$selector}", "version", "Node.js"),
)
MAX_TEXT = 60  # label values come from the service: bounded before they are shown


class RecentChangesParams(CheckParams):
    max_listed: int = Field(default=6, ge=1, le=50)


class RecentChanges(CheckKind[RecentChangesParams]):
    kind = "recent_changes"
    params_model = RecentChangesParams

    def signals(self, params: RecentChangesParams) -> set[Signal]:
        return {Signal.REPLICASET_CREATED, Signal.POD_IMAGE}

    def custom_queries(self, params: RecentChangesParams) -> dict[str, str]:
        queries = {START: "process_start_time_seconds{$selector}"}
        queries.update({key: template for key, template, _, _ in VERSION_FAMILIES})
        return queries

    def evaluate(self, params: RecentChangesParams, ctx: CheckContext) -> list[Finding]:
        readable = [START, *(family[0] for family in VERSION_FAMILIES)]
        failed = [key for key in readable if key in ctx.data.failures]
        if failed:
            ctx.series(failed[0])  # raises CheckUnknown with the backend's reason
        started = restarts(ctx)
        rolled = _at_restart([*versions(ctx), *rollouts(ctx)], started, ctx.window.step)
        changes = sorted([*started, *rolled, *deploys(ctx)], key=lambda change: change.at)
        return [
            finding(
                "recent_changes",
                "info",
                summary(changes, params.max_listed),
                query=ctx.query(*readable),
                observed={"changes": len(changes)},
            ).model_copy(update={"changes": tuple(changes)})
        ]


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(at))


def describe(change: Change) -> str:
    where = f" on {change.instance}" if change.instance else ""
    return f"{change.kind} at {clock(change.at)}{where}: {change.detail}"


def summary(changes: Sequence[Change], most: int) -> str:
    if not changes:
        return "no restart, version change or deploy seen in the window"
    return "; ".join(changed_lines(changes, most))


def changed_lines(changes: Sequence[Change], most: int = 6) -> list[str]:
    """One line per distinct change, latest last; the instances that had the same one at once
    are listed together (a rollout restarts every pod)."""
    grouped: dict[Change, list[str]] = {}
    for change in changes:
        instances = grouped.setdefault(change.model_copy(update={"instance": ""}), [])
        if change.instance:
            instances.append(change.instance)
    lines = [
        describe(change.model_copy(update={"instance": ", ".join(names)}))
        for change, names in grouped.items()
    ]
    hidden = len(lines) - most
    return lines[-most:] if hidden <= 0 else [f"{hidden} earlier change(s)", *lines[-most:]]


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _by_instance(
    found: Iterable[RangeSeries], pod_label: str
) -> dict[str, list[tuple[float, float]]]:
    values: dict[str, list[tuple[float, float]]] = {}
    for one in found:
        name = stats.instance_name(one.labels, pod_label) or "unnamed instance"
        values.setdefault(_short(name), []).extend(stats.finite(one.points))
    return {name: sorted(points) for name, points in values.items()}


def restarts(ctx: CheckContext) -> list[Change]:
    """A new start time on an instance is a new process. An instance whose first process
    started after the others were already seen is a new one (a rollout's new pod)."""
    found: list[Change] = []
    per_instance = _by_instance(ctx.optional_series(START), ctx.pod_label)
    first_seen = min((points[0][0] for points in per_instance.values() if points), default=0.0)
    for name, points in per_instance.items():
        starts = [v for _, v in points]
        if points and first_seen + ctx.window.step < starts[0] <= ctx.window.end:
            found.append(Change(kind="restart", at=starts[0], instance=name, detail="started"))
        for before, after in itertools.pairwise(starts):
            if after > before:
                found.append(Change(kind="restart", at=after, instance=name, detail="restarted"))
    return found


def versions(ctx: CheckContext) -> list[Change]:
    found: list[Change] = []
    for key, _, label, what in VERSION_FAMILIES:
        found += _version_changes(ctx, ctx.optional_series(key), label, what)
    return found


def _version_changes(
    ctx: CheckContext, found: Sequence[RangeSeries], label: str, what: str
) -> list[Change]:
    """A version first seen after another one was already running."""
    first_seen: dict[str, tuple[float, str]] = {}
    for one in found:
        version, points = one.labels.get(label), stats.finite(one.points)
        if not version or not points:
            continue
        name = _instance_of(one, ctx.pod_label)
        if version not in first_seen or points[0][0] < first_seen[version][0]:
            first_seen[version] = (points[0][0], name)
    if not first_seen:
        return []
    settled = min(t for t, _ in first_seen.values()) + ctx.window.step
    old = sorted(v for v, (t, _) in first_seen.items() if t <= settled)
    if not old:
        return []
    return [
        Change(
            kind="version",
            at=at,
            instance=name,
            detail=f"{what} {_short(', '.join(old))} -> {_short(version)}",
        )
        for version, (at, name) in first_seen.items()
        if at > settled
    ]


def _at_restart(changes: list[Change], started: list[Change], step: float) -> list[Change]:
    """A version or image first seen up to one query step after an instance restarted came
    with that restart: the restart's exact time (a start time, not a sample) is kept."""
    fixed = []
    for change in changes:
        near = [
            one.at
            for one in started
            if one.instance == change.instance and change.at - step <= one.at <= change.at
        ]
        fixed.append(change.model_copy(update={"at": max(near)}) if near else change)
    return fixed


def rollouts(ctx: CheckContext) -> list[Change]:
    """New ReplicaSets and images of the service's pods (kube-state-metrics)."""
    images = _version_changes(ctx, ctx.optional_series(Signal.POD_IMAGE), "image", "image")
    found = [change.model_copy(update={"kind": "image"}) for change in images]
    replicasets = ctx.optional_series(Signal.REPLICASET_CREATED)
    first = min((p[0][0] for p in (stats.finite(s.points) for s in replicasets) if p), default=0)
    for one in replicasets:
        created = max(stats.values(one.points), default=0.0)
        if first + ctx.window.step < created <= ctx.window.end:
            name = _short(one.labels.get("replicaset", "?"))
            found.append(Change(kind="replicaset", at=created, detail=f"new ReplicaSet {name}"))
    return found


def _instance_of(one: RangeSeries, pod_label: str) -> str:
    return _short(stats.instance_name(one.labels, pod_label) or "")


def deploys(ctx: CheckContext) -> list[Change]:
    return [d for d in ctx.deploys if ctx.window.start <= d.at <= ctx.window.end]
