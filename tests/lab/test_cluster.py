"""The lab run as pods: a fault in one of three (both flavours), a real CPU limit, and a
deploy that brings a fault. The bot is asked about `shop` only; the lab keeps the mapping of
pods to faults to itself. Each test polls the triage until it answers or the time is up and
prints how long the diagnosis took."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Callable

import pytest

from bot.catalog import Catalog, parse_catalog
from bot.models import InstanceScope, TriageReport
from bot.sources.prometheus import PrometheusClient
from bot.triage.runner import ServiceTriageRunner
from lab import Flavour
from lab.cgroup_cpu import cgroup_problem
from lab.cgroup_memory import memory_cgroup_problem
from lab.cluster import JOB, LabCluster, PodSpec
from lab.neighbour import busy_neighbour
from lab.packages import missing_packages
from tests.lab.cluster_table import record
from tests.triage.helpers import nodejs_playbook
from tests.waiting import eventually

pytestmark = [
    pytest.mark.lab,
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]
CATALOG: Catalog = parse_catalog(f"services:\n  shop:\n    selector: {{job: {JOB}}}\n")
WINDOW = "2m"
DEADLINE_S = 120.0
POLL_S = 3.0
OOM_LIMIT_MIB = 160
# Small enough that three pods at their limit fit on the lab's two shared cores even when
# the machine is busy (three at 0.3 core could not all reach their quota), large enough
# for a pod to keep answering scrapes.
FULL_POD_QUOTA_CORES = 0.12
# A pod that requests 10m CPU pinned to the core of a neighbour that requests two cores
# gets next to nothing of it while the neighbour spins (0.3 s of every 0.4 s), and catches
# up while it rests: it lags steadily and still uses only the little its traffic needs.
# (A neighbour spinning without rests either starves it outright or, at a larger request,
# leaves a lag that fades as the pod's code warms up.)
STARVED_POD_REQUEST_CORES = 0.01
NEIGHBOUR_REQUEST_CORES = 2.0
SHARED_CORE = 1
CRASHES = 3
HEALTHY_SCRAPES_BEFORE_DEPLOY = 20


async def triage(cluster: LabCluster) -> TriageReport:
    async with PrometheusClient(cluster.prometheus_url) as client:
        return await ServiceTriageRunner(CATALOG, nodejs_playbook(), client).run("shop", WINDOW)


async def diagnosed(
    cluster: LabCluster, judge: Callable[[TriageReport], bool], started: float
) -> tuple[TriageReport, float]:
    """Triage every few seconds until `judge` accepts the report; the wait names the last."""
    answers: list[TriageReport] = []

    async def accepted() -> bool:
        answers.append(await triage(cluster))
        return judge(answers[-1])

    try:
        await eventually(accepted, DEADLINE_S, every=POLL_S, what="the expected diagnosis")
    except AssertionError as error:
        last = answers[-1].diagnosis if answers else "no answer"
        raise AssertionError(f"{error}; the last answer: {last}") from None
    return answers[-1], time.monotonic() - started


def named(cause: str, *affected: str) -> Callable[[TriageReport], bool]:
    """A judge: the cause, shown by exactly these of the three pods."""
    scope = InstanceScope(instances_total=3, instances_affected=affected)
    return lambda r: r.diagnosis.cause == cause and r.diagnosis.scope == scope


def has_finding(code: str) -> Callable[[TriageReport], bool]:
    return lambda r: any(f.code == code for s in r.steps for f in s.findings)


def both(
    first: Callable[[TriageReport], bool], second: Callable[[TriageReport], bool]
) -> Callable[[TriageReport], bool]:
    return lambda r: first(r) and second(r)


@pytest.mark.parametrize("flavour", ["promclient", "otel"])
async def test_a_fault_in_one_pod_of_three_is_named_with_its_pod(flavour: Flavour) -> None:
    pods = [PodSpec("shop-0"), PodSpec("shop-1", fault="event_loop_blocked"), PodSpec("shop-2")]
    async with LabCluster(flavour, pods) as cluster:
        started = time.monotonic()
        report, took = await diagnosed(cluster, named("event_loop_blocked", "shop-1"), started)
    assert report.diagnosis.scope is not None
    assert report.diagnosis.scope.instances_total == 3
    assert "Only 1 of 3 instances show it: shop-1." in report.diagnosis.summary
    record(f"event_loop_blocked in 1 of 3 pods ({flavour})", report, took)


async def test_a_pod_that_stops_answering_is_named_and_the_others_are_not_called_healthy() -> None:
    pods = [PodSpec(f"shop-{i}") for i in range(3)]
    async with LabCluster("promclient", pods) as cluster, cluster.frozen("shop-1"):
        started = time.monotonic()
        report, took = await diagnosed(cluster, silent("shop-1"), started)
    assert "Not measured: anything from shop-1" in report.diagnosis.summary
    record("shop-1 stopped (SIGSTOP): alive, holding its port, answering nothing", report, took)


def silent(*pods: str) -> Callable[[TriageReport], bool]:
    """A judge: not called healthy, with exactly these of the three pods silent."""
    scope = InstanceScope(instances_total=3, instances_affected=pods)

    def judge(report: TriageReport) -> bool:
        found = [f for s in report.steps for f in s.findings if f.code == "instances_silent"]
        cause = report.diagnosis.cause
        return cause == "insufficient_data" and bool(found) and found[0].scope == scope

    return judge


async def test_a_pod_throttled_by_a_real_cpu_quota_is_called_throttled() -> None:
    problem = cgroup_problem()
    if problem:
        pytest.skip(f"no CPU cgroup for the lab: {problem}")
    pods = [
        PodSpec("shop-0", cpu_quota_cores=1.0),
        PodSpec("shop-1", fault="cpu_saturated", cpu_quota_cores=0.2),
        PodSpec("shop-2", cpu_quota_cores=1.0),
    ]
    async with LabCluster("promclient", pods) as cluster:
        started = time.monotonic()
        report, took = await diagnosed(cluster, named("cpu_throttled", "shop-1"), started)
    assert "Raise the CPU limit" in report.diagnosis.advice
    throttled = next(f for s in report.steps for f in s.findings if f.code == "cpu_throttled")
    assert throttled.evidence.observed["limit_cores"] == pytest.approx(0.2, abs=0.01)
    record("cpu_saturated under a 0.2-core CPU quota, 1 of 3 pods", report, took)


async def test_a_deploy_that_brings_a_fault_is_named_with_its_version_and_time() -> None:
    pods = [PodSpec(f"shop-{i}") for i in range(3)]
    async with LabCluster("promclient", pods, hpa=(3, 6)) as cluster:
        healthy_readings = f"count_over_time(nodejs_eventloop_lag_p99_seconds{{job='{JOB}'}}[1m])"
        await cluster.prometheus.wait_for(  # clean readings of every pod before the change
            f"count({healthy_readings} >= {HEALTHY_SCRAPES_BEFORE_DEPLOY}) == 3", timeout_s=90
        )
        deployed_at = time.time()
        await asyncio.gather(
            *(
                cluster.restart(pod.name, fault="event_loop_blocked", version="2.0.0")
                for pod in pods
            )
        )
        started = time.monotonic()
        report, took = await diagnosed(
            cluster,
            lambda r: (
                r.diagnosis.cause == "event_loop_blocked" and "Roll back" in r.diagnosis.advice
            ),
            started,
        )
    diagnosis = report.diagnosis
    versions = [c for c in diagnosis.changes if c.kind == "version"]
    assert versions
    assert versions[0].detail == "build 1.0.0 -> 2.0.0"
    assert abs(versions[0].at - deployed_at) < 20
    assert "It began within 15 min after a change" in diagnosis.summary
    # every pod runs the new version; read since the change, every pod shows the fault
    assert diagnosis.scope is not None
    assert diagnosis.scope.everywhere
    assert {c.kind for c in diagnosis.changes} >= {"restart", "version", "image", "replicaset"}
    record("deploy of 2.0.0 carrying event_loop_blocked, all 3 pods", report, took)


async def test_a_pod_killed_at_its_memory_limit_is_called_oom_killed() -> None:
    problem = memory_cgroup_problem()
    if problem:
        pytest.skip(f"no memory cgroup for the lab: {problem}")
    pods = [
        PodSpec("shop-0"),
        PodSpec("shop-1", fault="heap_leak", memory_limit_mib=OOM_LIMIT_MIB),
        PodSpec("shop-2"),
    ]
    async with LabCluster("promclient", pods) as cluster:
        started = time.monotonic()
        report, took = await diagnosed(cluster, named("oom_killed", "shop-1"), started)
        killed = cluster.state.pods["shop-1"]
        assert killed.last_terminated_reason == "OOMKilled"
    assert f"of a {OOM_LIMIT_MIB} MiB limit" in report.diagnosis.summary
    record(f"heap_leak under a {OOM_LIMIT_MIB} MiB memory limit, 1 of 3 pods", report, took)


async def test_a_pod_that_keeps_crashing_is_called_crash_looping() -> None:
    pods = [PodSpec("shop-0"), PodSpec("shop-1"), PodSpec("shop-2")]
    async with LabCluster("promclient", pods) as cluster:
        await cluster.prometheus.wait_for(f'count(up{{job="{JOB}"}} == 1) == 3')
        started = time.monotonic()
        for _ in range(CRASHES):
            await cluster.crash("shop-2")
        # Prometheus scrapes the restart counter after the kills, so the count is waited for
        # with the cause: an early answer may still see one restart fewer.
        report, took = await diagnosed(
            cluster,
            lambda r: (
                r.diagnosis.cause == "crash_looping"
                and r.diagnosis.scope is not None
                and r.diagnosis.scope.instances_affected == ("shop-2",)
                and f"{CRASHES} container restart(s)" in r.diagnosis.summary
            ),
            started,
        )
    record(f"shop-2 killed {CRASHES} times, 1 of 3 pods", report, took)


@pytest.mark.parametrize("flavour", ["promclient", "otel"])
async def test_every_pod_at_its_cpu_limit_with_the_autoscaler_at_max_is_out_of_capacity(
    flavour: Flavour,
) -> None:
    problem = cgroup_problem()
    if problem:
        pytest.skip(f"no CPU cgroup for the lab: {problem}")
    # Honest load that wants most of a core on every pod, each held to a small CPU limit,
    # and an autoscaler already at its maximum: nothing is wrong with any one pod.
    pods = [
        PodSpec(f"shop-{i}", fault="near_capacity", cpu_quota_cores=FULL_POD_QUOTA_CORES)
        for i in range(3)
    ]
    everyone = [pod.name for pod in pods]
    async with LabCluster(flavour, pods, hpa=(3, 3)) as cluster:
        started = time.monotonic()
        # The limit is read from the throttling finding, which needs two readings of the CFS
        # counters: the diagnosis can come first (from the CPU and the lag) on a busy machine.
        judge = both(named("capacity_exhausted", *everyone), has_finding("cpu_throttled"))
        report, took = await diagnosed(cluster, judge, started)
    diagnosis = report.diagnosis
    assert "the autoscaler is at its maximum (autoscaler at 3 of at most 3" in diagnosis.summary
    assert "Raise the autoscaler's maximum" in diagnosis.advice
    throttled = next(f for s in report.steps for f in s.findings if f.code == "cpu_throttled")
    limit = throttled.evidence.observed["limit_cores"]
    assert limit == pytest.approx(FULL_POD_QUOTA_CORES, abs=0.005)
    record(
        f"near-capacity load on all 3 pods under {FULL_POD_QUOTA_CORES}-core CPU quotas, "
        f"autoscaler at 3 of 3 ({flavour})",
        report,
        took,
    )


async def test_a_pod_starved_by_a_busy_neighbour_is_called_starved_not_blocked() -> None:
    problem = cgroup_problem()
    if problem:
        pytest.skip(f"no CPU cgroup for the lab: {problem}")
    if SHARED_CORE not in os.sched_getaffinity(0):
        pytest.skip(f"core {SHARED_CORE} is not available to the lab")
    starved = PodSpec(
        "shop-1",
        cpu_quota_cores=1.0,  # a limit it never reaches: measured, and not throttled
        cpu_request_cores=STARVED_POD_REQUEST_CORES,
        pinned_core=SHARED_CORE,
    )
    pods = [PodSpec("shop-0"), starved, PodSpec("shop-2")]
    neighbour = busy_neighbour(
        f"lab-{uuid.uuid4().hex[:8]}-neighbour",
        core=SHARED_CORE,
        request_cores=NEIGHBOUR_REQUEST_CORES,
    )
    async with LabCluster("promclient", pods) as cluster, neighbour:
        started = time.monotonic()
        report, took = await diagnosed(cluster, named("cpu_starved", "shop-1"), started)
    assert "not given the CPU" in report.diagnosis.summary
    findings = {f.code: f for s in report.steps for f in s.findings}
    assert findings["cpu_throttled"].severity == "info"
    cores = findings["cpu_starved"].evidence.observed["cores_while_lagging"]
    assert isinstance(cores, float)
    assert cores < 0.15
    record(
        f"shop-1 ({STARVED_POD_REQUEST_CORES * 1000:.0f}m CPU request) on one core with a "
        f"neighbour requesting {NEIGHBOUR_REQUEST_CORES:g} cores, busy 0.3 s of every 0.4 s",
        report,
        took,
    )
