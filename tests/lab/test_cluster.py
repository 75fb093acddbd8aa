"""The lab run as pods: a fault in one of three (both flavours), a real CPU limit, and a
deploy that brings a fault. The bot is asked about `shop` only; the lab keeps the mapping of
pods to faults to itself. Each test polls the triage until it answers or the time is up and
prints how long the diagnosis took."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable

import pytest

from bot.catalog import Catalog, parse_catalog
from bot.models import InstanceScope, TriageReport
from bot.sources.prometheus import PrometheusClient
from bot.triage.runner import ServiceTriageRunner
from lab.cluster import JOB, LabCluster, PodSpec
from lab.packages import missing_packages
from tests.lab.cluster_table import record
from tests.triage.helpers import nodejs_playbook

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]
CATALOG: Catalog = parse_catalog(f"services:\n  shop:\n    selector: {{job: {JOB}}}\n")
WINDOW = "2m"
DEADLINE_S = 120.0
POLL_S = 3.0


async def triage(cluster: LabCluster) -> TriageReport:
    async with PrometheusClient(cluster.prometheus_url) as client:
        return await ServiceTriageRunner(CATALOG, nodejs_playbook(), client).run("shop", WINDOW)


async def diagnosed(
    cluster: LabCluster, judge: Callable[[TriageReport], bool], started: float
) -> tuple[TriageReport, float]:
    """Triage every few seconds until `judge` accepts the report; fail with the last one."""
    deadline = started + DEADLINE_S
    while True:
        report = await triage(cluster)
        if judge(report):
            return report, time.monotonic() - started
        if time.monotonic() > deadline:
            pytest.fail(f"not diagnosed in {DEADLINE_S:.0f} s; last: {report.diagnosis}")
        await asyncio.sleep(POLL_S)


@pytest.mark.parametrize("flavour", ["promclient", "otel"])
async def test_a_fault_in_one_pod_of_three_is_named_with_its_pod(flavour: str) -> None:
    pods = [PodSpec("shop-0"), PodSpec("shop-1", fault="event_loop_blocked"), PodSpec("shop-2")]
    async with LabCluster(flavour, pods) as cluster:  # type: ignore[arg-type]
        started = time.monotonic()
        report, took = await diagnosed(
            cluster,
            lambda r: (
                r.diagnosis.cause == "event_loop_blocked"
                and r.diagnosis.scope
                == InstanceScope(instances_total=3, instances_affected=("shop-1",))
            ),
            started,
        )
    assert report.diagnosis.scope is not None
    assert report.diagnosis.scope.instances_total == 3
    assert "Only 1 of 3 instances show it: shop-1." in report.diagnosis.summary
    record(f"event_loop_blocked in 1 of 3 pods ({flavour})", report, took)
