"""Kubernetes series joined to a service on a real Prometheus: only the service's own pods
(named by its series' namespace/pod labels) are read, and a throttled pod is named."""

from __future__ import annotations

import re

import pytest

from bot.catalog import parse_catalog
from bot.sources.prometheus import PrometheusClient
from bot.triage.runner import ServiceTriageRunner
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.triage.helpers import nodejs_playbook
from tests.triage.test_runner_fleet import lagging

CATALOG = parse_catalog(
    "services:\n  orders-api:\n    selector: {job: orders}\n"
    "    kubernetes: {namespace_label: kubernetes_namespace, pod_label: kubernetes_pod_name}\n"
)
CADVISOR = """# TYPE container_cpu_cfs_periods_total counter
# TYPE container_cpu_cfs_throttled_periods_total counter
# TYPE container_cpu_usage_seconds_total counter
# TYPE container_spec_cpu_quota gauge
# TYPE container_spec_cpu_period gauge
# TYPE kube_pod_status_ready gauge
# TYPE kube_horizontalpodautoscaler_status_current_replicas gauge
# TYPE kube_horizontalpodautoscaler_spec_max_replicas gauge
"""


def pod(name: str, throttled_periods: float) -> str:
    labels = f'namespace="prod",pod="{name}",container="app"'
    return (
        f"container_cpu_cfs_periods_total{{{labels}}} 1000\n"
        f"container_cpu_cfs_throttled_periods_total{{{labels}}} {throttled_periods}\n"
        f"container_cpu_usage_seconds_total{{{labels}}} 4.8\n"
        f"container_spec_cpu_quota{{{labels}}} 50000\n"
        f"container_spec_cpu_period{{{labels}}} 100000\n"
        f'kube_pod_status_ready{{namespace="prod",pod="{name}",condition="true"}} 1\n'
    )


def autoscaler(name: str, current: int, most: int) -> str:
    labels = f'namespace="prod",horizontalpodautoscaler="{name}"'
    return (
        f"kube_horizontalpodautoscaler_status_current_replicas{{{labels}}} {current}\n"
        f"kube_horizontalpodautoscaler_spec_max_replicas{{{labels}}} {most}\n"
    )


def in_pod(text: str, name: str) -> str:
    """The service's exposition as its pod would be scraped through service discovery."""
    extra = f'kubernetes_namespace="prod",kubernetes_pod_name="{name}",'
    return re.sub(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rf"\1{{{extra}", text, flags=re.MULTILINE)


@pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")
async def test_the_throttled_pod_of_the_service_is_named_and_others_are_ignored() -> None:
    text = fixture_text("promclient.txt")
    cluster = CADVISOR + pod("orders-a", 600) + pod("orders-b", 10) + pod("other-x", 900)
    cluster += autoscaler("orders-api", 2, 5) + autoscaler("other", 9, 9)
    async with (
        serve_exposition(growing_counters(in_pod(lagging(text), "orders-a"))) as first,
        serve_exposition(growing_counters(in_pod(text, "orders-b"))) as second,
        serve_exposition(growing_counters(cluster)) as kubernetes,
        run_prometheus({"orders": [first, second], "kubelet": [kubernetes]}) as prom,
    ):
        await prom.wait_for_series("count(nodejs_eventloop_lag_p99_seconds) == 2")
        await prom.wait_for_series("rate(container_cpu_cfs_periods_total[1m]) > 0")
        await prom.wait_for_scrapes("orders", 4)
        await prom.wait_for_scrapes("kubelet", 4)
        async with PrometheusClient(prom.url) as client:
            runner = ServiceTriageRunner(CATALOG, nodejs_playbook(), client)
            report = await runner.run("orders-api", "1m")
    assert report.backend_errors == ()
    found = {f.code: f for step in report.steps for f in step.findings}
    throttled = found["cpu_throttled"]
    assert throttled.severity == "crit"
    assert throttled.evidence.observed["limit_cores"] == pytest.approx(0.5)
    assert throttled.scope is not None
    assert throttled.scope.instances_total == 2  # other-x is not the service's
    assert throttled.scope.instances_affected == ("orders-a",)
    assert found["capacity"].summary == "autoscaler at 2 of at most 5 replicas"
    assert report.diagnosis.cause == "cpu_throttled"
    assert report.diagnosis.scope == throttled.scope
