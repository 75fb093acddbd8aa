"""What changed: restarts, versions and deploys, and a problem that began right after one."""

from __future__ import annotations

import json

from bot.models import Change
from bot.triage.engine import TriageRequest, run_triage
from bot.triage.recorded import RecordedSignalSource
from bot.triage.window import parse_window
from tests.triage.helpers import (
    END,
    nodejs_playbook,
    recording,
    triage_data,
    triage_recording,
)

DEPLOYED = END - 300


async def test_a_deploy_that_brought_the_fault_is_named_with_rollback_first() -> None:
    report = await triage_recording("event_loop_blocked_after_deploy")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "event_loop_blocked"
    versions = [c for c in diagnosis.changes if c.kind == "version"]
    assert [(c.at, c.detail) for c in versions] == [(DEPLOYED, "service version 1.4.2 -> 1.5.0")]
    restarts = {c.instance for c in diagnosis.changes if c.kind == "restart"}
    assert restarts == {"shop-6d8f9-a1", "shop-6d8f9-b2", "shop-6d8f9-c3"}
    assert "It began within 15 min after a change" in diagnosis.summary
    assert diagnosis.advice.startswith("Roll back first (version: service version 1.4.2 -> 1.5.0)")


async def test_changes_in_json_have_the_public_shape() -> None:
    report = await triage_recording("event_loop_blocked_after_deploy")
    changes = json.loads(report.model_dump_json())["diagnosis"]["changes"]
    assert changes
    assert all(set(change) == {"kind", "at", "instance", "detail"} for change in changes)


async def test_a_problem_older_than_the_change_is_not_blamed_on_it() -> None:
    report = await triage_recording("event_loop_blocked_before_restart")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "event_loop_blocked"
    assert any(c.kind == "version" for c in diagnosis.changes)  # seen, listed...
    assert "It began within" not in diagnosis.summary  # ...but not blamed
    assert "Roll back" not in diagnosis.advice


async def test_no_change_seen_leaves_the_diagnosis_alone() -> None:
    report = await triage_recording("event_loop_blocked_all_pods")
    assert report.diagnosis.changes == ()
    step = next(step for step in report.steps if step.id == "changes")
    assert step.status == "ok"
    assert "no restart, version change or deploy seen" in step.findings[0].summary


async def test_a_deploy_event_is_listed_and_blamed() -> None:
    data = recording("event_loop_blocked_after_deploy")
    data["custom"] = {}  # no restart or version series: only the event tells
    deploy = Change(kind="deploy", at=DEPLOYED - 20, detail="shop 1.5.0 (abc1234) by ci")
    report = await run_triage(
        TriageRequest(
            service="shop",
            window=parse_window("10m", end=END),
            playbook=nodejs_playbook(),
            source=RecordedSignalSource.from_dict(data),
            deploys=(deploy,),
            change_window_s=120,
        )
    )
    assert report.diagnosis.changes == (deploy,)
    assert "It began within 2 min after a change: deploy at" in report.diagnosis.summary
    assert report.diagnosis.advice.startswith("Roll back first (deploy: shop 1.5.0")


async def test_a_deploy_outside_the_change_window_is_listed_only() -> None:
    data = recording("event_loop_blocked_after_deploy")
    data["custom"] = {}
    deploy = Change(kind="deploy", at=END - 590, detail="shop 1.4.9")
    report = await run_triage(
        TriageRequest(
            service="shop",
            window=parse_window("10m", end=END),
            playbook=nodejs_playbook(),
            source=RecordedSignalSource.from_dict(data),
            deploys=(deploy,),
            change_window_s=120,
        )
    )
    assert report.diagnosis.changes == (deploy,)
    assert "Roll back" not in report.diagnosis.advice


async def test_a_new_replicaset_and_image_are_listed() -> None:
    data = recording("event_loop_blocked_after_deploy")
    times = [t for t, _ in data["signals"]["eventloop_lag_p99"][0]["points"]]
    old, new = {"replicaset": "shop-6d8f9"}, {"replicaset": "shop-7a1b2"}
    data["signals"]["replicaset_created"] = [
        {"labels": old, "values_relative_to_end": True, "points": [[t, -86400] for t in times]},
        {
            "labels": new,
            "values_relative_to_end": True,
            "points": [[t, -300] for t in times if t >= -300],
        },
    ]
    pod = {"namespace": "prod", "pod": "shop-6d8f9-a1"}
    data["signals"]["pod_image"] = [
        {"labels": pod | {"image": "shop:1.4.2"}, "points": [[t, 1] for t in times if t < -300]},
        {"labels": pod | {"image": "shop:1.5.0"}, "points": [[t, 1] for t in times if t >= -300]},
    ]
    report = await run_triage(
        TriageRequest(
            service="shop",
            window=parse_window("10m", end=END),
            playbook=nodejs_playbook(),
            source=RecordedSignalSource.from_dict(data),
        )
    )
    listed = {(c.kind, c.detail) for c in report.diagnosis.changes}
    assert ("replicaset", "new ReplicaSet shop-7a1b2") in listed
    assert ("image", "image shop:1.4.2 -> shop:1.5.0") in listed
    assert not any("shop-6d8f9" in detail for kind, detail in listed if kind == "replicaset")


async def test_right_after_a_rollout_every_pod_running_the_new_version_is_in_the_scope() -> None:
    """Two of the three pods began lagging later than the first: over the whole window they
    have not lagged for long enough to be flagged on their own, but since the change every
    pod runs the new version and shows the problem (the lab's deploy read 1 of 3)."""
    data = recording("event_loop_blocked_after_deploy")
    for signal in ("eventloop_lag_p99", "eventloop_lag_max"):
        for one in data["signals"][signal]:
            if one["labels"]["pod"] != "shop-6d8f9-a1":
                one["points"] = [[t, v if t >= -120 else 0.012] for t, v in one["points"]]
    report = await triage_data(data)
    diagnosis = report.diagnosis
    assert diagnosis.cause == "event_loop_blocked"
    assert "It began within 15 min after a change" in diagnosis.summary
    lag = next(f for s in report.steps for f in s.findings if f.code == "eventloop_lag")
    assert lag.scope is not None
    assert lag.scope.instances_affected == ("shop-6d8f9-a1",)  # the whole window
    assert diagnosis.scope is not None
    assert diagnosis.scope.everywhere
    assert "All 3 instances show it." in diagnosis.summary
