"""What the cluster's own exporters would say about the lab's pods, from what the lab does.

One small HTTP endpoint publishes, under cAdvisor's and kube-state-metrics' names and labels:
the CPU cgroup's counters and quota of each pod that has one (`container_cpu_cfs_*`,
`container_spec_cpu_*`), each process's CPU time and resident memory
(`container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`), and the
restarts, their reasons, readiness, image, owning ReplicaSet and autoscaler that the lab's
`LabCluster` records as it starts, restarts and replaces processes. Nothing is made up:
every value is read from the kernel or from an action the lab took.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from lab.cgroup_cpu import CpuCgroup, process_cpu_seconds
from lab.procs import free_port

CONTAINER = "app"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class PodState:
    name: str
    replicaset: str
    image: str
    pid: int = 0
    cgroup: CpuCgroup | None = None
    memory_limit_bytes: int = 0
    restarts: int = 0
    last_terminated_reason: str = ""
    waiting_reason: str = ""
    ready: bool = True
    cpu_seconds_before: float = 0.0  # CPU time of the container's earlier processes


@dataclass
class ClusterState:
    namespace: str
    pods: dict[str, PodState] = field(default_factory=dict)
    replicasets: dict[str, float] = field(default_factory=dict)  # name -> created (unix)
    hpa: tuple[str, int, int] | None = None  # name, current replicas, max replicas

    def new_replicaset(self, name: str) -> str:
        self.replicasets.setdefault(name, time.time())
        return name


def _labels(**pairs: str) -> str:
    inner = ",".join(f'{key}="{value}"' for key, value in pairs.items())
    return "{" + inner + "}"


def _cadvisor(state: ClusterState, pod: PodState) -> list[str]:
    where = _labels(namespace=state.namespace, pod=pod.name, container=CONTAINER)
    cpu = pod.cpu_seconds_before + process_cpu_seconds(pod.pid)
    lines = [f"container_cpu_usage_seconds_total{where} {cpu}"]
    lines.append(f"container_memory_working_set_bytes{where} {_rss_bytes(pod.pid)}")
    lines.append(f"container_spec_memory_limit_bytes{where} {pod.memory_limit_bytes}")
    if pod.cgroup is not None and pod.cgroup.quota_cores is not None:
        # cAdvisor publishes the CFS counters only for a container with a CPU limit
        try:
            stat = pod.cgroup.stat()
        except FileNotFoundError:  # the pod is being restarted or stopped: its group is gone
            return lines
        lines.append(f"container_cpu_cfs_periods_total{where} {stat.get('nr_periods', 0)}")
        throttled = stat.get("nr_throttled", 0)
        lines.append(f"container_cpu_cfs_throttled_periods_total{where} {throttled}")
        quota = round(pod.cgroup.quota_cores * pod.cgroup.period_us)
        lines.append(f"container_spec_cpu_quota{where} {quota}")
        lines.append(f"container_spec_cpu_period{where} {pod.cgroup.period_us}")
    return lines


def _kube_state(state: ClusterState, pod: PodState) -> list[str]:
    ns = state.namespace
    container = _labels(namespace=ns, pod=pod.name, container=CONTAINER)
    lines = [f"kube_pod_container_status_restarts_total{container} {pod.restarts}"]
    for reason in ("OOMKilled", "Error", "Completed"):
        where = _labels(namespace=ns, pod=pod.name, container=CONTAINER, reason=reason)
        value = 1 if pod.last_terminated_reason == reason else 0
        lines.append(f"kube_pod_container_status_last_terminated_reason{where} {value}")
    where = _labels(namespace=ns, pod=pod.name, container=CONTAINER, reason="CrashLoopBackOff")
    looping = 1 if pod.waiting_reason == "CrashLoopBackOff" else 0
    lines.append(f"kube_pod_container_status_waiting_reason{where} {looping}")
    ready = _labels(namespace=ns, pod=pod.name, condition="true")
    lines.append(f"kube_pod_status_ready{ready} {1 if pod.ready else 0}")
    image = _labels(namespace=ns, pod=pod.name, container=CONTAINER, image=pod.image)
    lines.append(f"kube_pod_container_info{image} 1")
    owner = _labels(namespace=ns, pod=pod.name, owner_kind="ReplicaSet", owner_name=pod.replicaset)
    lines.append(f"kube_pod_owner{owner} 1")
    return lines


def exposition(state: ClusterState) -> str:
    lines = [
        "# TYPE container_cpu_usage_seconds_total counter",
        "# TYPE container_cpu_cfs_periods_total counter",
        "# TYPE container_cpu_cfs_throttled_periods_total counter",
        "# TYPE kube_pod_container_status_restarts_total counter",
    ]
    for pod in state.pods.values():
        lines += _cadvisor(state, pod) + _kube_state(state, pod)
    for name, created in state.replicasets.items():
        where = _labels(namespace=state.namespace, replicaset=name)
        lines.append(f"kube_replicaset_created{where} {created}")
    if state.hpa is not None:
        name, current, most = state.hpa
        where = _labels(namespace=state.namespace, horizontalpodautoscaler=name)
        lines.append(f"kube_horizontalpodautoscaler_status_current_replicas{where} {current}")
        lines.append(f"kube_horizontalpodautoscaler_spec_max_replicas{where} {most}")
    return "\n".join(lines) + "\n"


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.asynccontextmanager
async def running_cluster_exporter(state: ClusterState) -> AsyncIterator[str]:
    """Serve `state` at /metrics on a free 127.0.0.1 port; yields host:port."""

    async def metrics(_request: web.Request) -> web.Response:
        text = await asyncio.to_thread(exposition, state)  # reads /proc and /sys
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()
