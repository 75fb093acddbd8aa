"""Scope: which of a service's instances show the cause, and advice that follows from it."""

from __future__ import annotations

import json

import pytest

from bot.sources.base import RangeSeries
from bot.triage.instances import by_instance
from bot.triage.series import instance_name
from bot.triage.source import Fetched
from tests.triage.helpers import RECORDINGS, recording, triage_recording

SCOPED = sorted(
    path.stem for path in RECORDINGS.glob("*.json") if "expect_scope" in recording(path.stem)
)


@pytest.mark.parametrize("name", SCOPED)
async def test_diagnosis_names_the_affected_instances(name: str) -> None:
    report = await triage_recording(name)
    dumped = json.loads(report.model_dump_json())
    assert dumped["diagnosis"]["scope"] == recording(name)["expect_scope"]


async def test_one_pod_of_three_is_named_and_advised_as_that_pod() -> None:
    report = await triage_recording("event_loop_blocked_one_pod")
    diagnosis = report.diagnosis
    assert "Only 1 of 3 instances show it: shop-6d8f9-b2." in diagnosis.summary
    assert diagnosis.advice.startswith("Start with shop-6d8f9-b2: take it out of rotation")


async def test_every_pod_is_advised_as_code_or_load() -> None:
    report = await triage_recording("event_loop_blocked_all_pods")
    diagnosis = report.diagnosis
    assert "All 3 instances show it." in diagnosis.summary
    assert "replacing or draining pods will not help" in diagnosis.advice
    assert "Start with" not in diagnosis.advice


async def test_the_lag_finding_itself_carries_the_scope() -> None:
    report = await triage_recording("event_loop_blocked_one_pod")
    lag = next(f for step in report.steps for f in step.findings if f.code == "eventloop_lag")
    assert lag.scope is not None
    assert lag.scope.instances_affected == ("shop-6d8f9-b2",)


async def test_service_level_findings_and_unlabelled_recordings_have_no_scope() -> None:
    one_pod = await triage_recording("event_loop_blocked_one_pod")
    latency = [f for s in one_pod.steps for f in s.findings if f.code == "service_latency"]
    assert latency
    assert all(f.scope is None for f in latency)
    plain = await triage_recording("event_loop_blocked")
    assert plain.diagnosis.scope is None
    assert "instances" not in plain.diagnosis.summary


def test_instance_is_the_pod_where_there_is_one_else_the_target() -> None:
    assert instance_name({"pod": "shop-1", "instance": "10.0.0.1:3000"}, "pod") == "shop-1"
    assert instance_name({"instance": "10.0.0.1:3000"}, "pod") == "10.0.0.1:3000"
    labels = {"kubernetes_pod_name": "shop-2", "instance": "10.0.0.2:3000"}
    assert instance_name(labels, "kubernetes_pod_name") == "shop-2"
    assert instance_name({}, "pod") is None


def test_series_are_regrouped_per_instance_and_service_totals_left_out() -> None:
    fetched = Fetched(
        series={
            "eventloop_lag_p99": [
                RangeSeries({"pod": "a"}, [(1.0, 0.1)]),
                RangeSeries({"pod": "b"}, [(1.0, 0.2)]),
            ],
            "request_rate": [RangeSeries({}, [(1.0, 30.0)])],
        }
    )
    split = by_instance(fetched, "pod")
    assert sorted(split) == ["a", "b"]
    assert split["b"].series == {"eventloop_lag_p99": [RangeSeries({"pod": "b"}, [(1.0, 0.2)])]}
