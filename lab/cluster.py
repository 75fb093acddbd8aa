"""One service run as several pods, the way Kubernetes runs it: the lab's scope, throttling
and deploy scenarios.

    pods = [PodSpec("shop-0"), PodSpec("shop-1", fault="event_loop_blocked"), PodSpec("shop-2")]
    async with LabCluster("promclient", pods, hpa=(3, 3)) as cluster:
        cluster.prometheus_url          # job `lab-shop`, each target labelled namespace/pod
        await cluster.restart("shop-1", fault="heap_leak", version="2.0.0")

Every pod is a real lab process with its own downstream, behind one Prometheus job whose
targets carry `namespace` and `pod` labels, as Kubernetes service discovery relabels them. A
pod with `cpu_quota_cores` runs inside a cgroup v1 CPU group with that quota, so the kernel
throttles it as it would a container with a CPU limit (`CgroupUnavailable` says why not where
it cannot); `cpu_request_cores` sets the group's CPU shares as the kubelet does for a request,
and `pinned_core` keeps the pod on one core it shares with `lab.neighbour`'s busy process.
`lab.cluster_exporter` publishes the cgroups' counters and what the cluster does (restarts
with their reason, new ReplicaSets and images, the autoscaler) under cAdvisor's and
kube-state-metrics' names, scraped as job `kubelet`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lab.cgroup_cpu import (
    DEFAULT_SHARES,
    CpuCgroup,
    pin_to_core,
    process_cpu_seconds,
    shares_for_request,
)
from lab.cgroup_memory import MemoryCgroup
from lab.cluster_exporter import ClusterState, PodState, running_cluster_exporter
from lab.monitoring import running_prometheus
from lab.nodeapp import (
    Flavour,
    RunningService,
    ServiceSpec,
    ensure_node_modules,
    running_load,
    running_service,
)
from lab.packages import ensure_debian_packages
from lab.postgres import LabDatabase, lab_database, role_for
from lab.promapi import PrometheusApi

JOB = "lab-shop"
NAMESPACE = "lab"
MIB = 1_048_576
SUPERVISE_S = 0.5
BACKOFF_S = 10.0


@dataclass(frozen=True)
class PodSpec:
    name: str
    fault: str = "healthy"
    cpu_quota_cores: float | None = None  # the CPU limit
    version: str = "1.0.0"
    memory_limit_mib: int | None = None
    cpu_request_cores: float | None = None  # the CPU request, as cgroup CPU shares
    pinned_core: int | None = None  # the only core it may run on (a small, shared node)


class LabCluster:
    def __init__(
        self,
        flavour: Flavour,
        pods: Sequence[PodSpec],
        *,
        hpa: tuple[int, int] | None = None,
        load_rps: float = 20.0,
        load_duration_s: float = 900.0,
    ) -> None:
        if len({pod.name for pod in pods}) != len(pods) or not pods:
            raise ValueError("LabCluster needs at least one pod, each with its own name")
        self.flavour = flavour
        self.specs = {pod.name: pod for pod in pods}
        self.state = ClusterState(NAMESPACE)
        if hpa is not None:
            self.state.hpa = ("shop", *hpa)
        self._load_rps = load_rps
        self._load_duration_s = load_duration_s
        self._stack = contextlib.AsyncExitStack()
        self._pods: dict[str, contextlib.AsyncExitStack] = {}
        self._running: dict[str, RunningService] = {}
        self._database: LabDatabase | None = None
        self._prometheus_url: str | None = None
        self._tag = uuid.uuid4().hex[:8]
        self._memory: dict[str, MemoryCgroup] = {}
        self._busy: set[str] = set()  # pods the lab itself is restarting
        self._restarted: dict[str, asyncio.Event] = {}
        self.workdir = Path()

    @property
    def prometheus_url(self) -> str:
        if self._prometheus_url is None:
            raise RuntimeError("LabCluster.prometheus_url is only set inside `async with`")
        return self._prometheus_url

    @property
    def prometheus(self) -> PrometheusApi:
        return PrometheusApi(self.prometheus_url)

    @property
    def job(self) -> str:
        return JOB

    async def __aenter__(self) -> LabCluster:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        await ensure_debian_packages(install=True)
        await ensure_node_modules()
        self.workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="lab-cluster-"))
        self._stack.callback(shutil.rmtree, self.workdir, True)
        enter = self._stack.enter_async_context
        self._database = await enter(lab_database(roles=[role_for(JOB)]))
        self._stack.push_async_callback(self._stop_pods)
        await asyncio.gather(*(self._start_pod(spec) for spec in self.specs.values()))
        exporter = await enter(running_cluster_exporter(self.state))
        self._prometheus_url = await enter(
            running_prometheus(
                self.workdir / "prometheus",
                {},
                alertmanager=None,
                extra_scrape_configs=[self._pods_job(), _job("kubelet", [exporter])],
            )
        )
        supervisor = asyncio.create_task(self._supervise(), name="lab-cluster-supervisor")
        self._stack.push_async_callback(_cancelled, supervisor)
        urls = [service.url for service in self._running.values()]
        await enter(
            running_load(
                urls, self.workdir / "logs", rps=self._load_rps, duration_s=self._load_duration_s
            )
        )

    def _pods_job(self) -> dict[str, object]:
        return {
            "job_name": JOB,
            "static_configs": [
                {
                    "targets": [service.metrics_target],
                    "labels": {"namespace": NAMESPACE, "pod": name},
                }
                for name, service in sorted(self._running.items())
            ],
        }

    async def _start_pod(self, spec: PodSpec, port: int | None = None) -> None:
        stack = contextlib.AsyncExitStack()
        database = self._database
        assert database is not None
        role = role_for(JOB)
        env = {**database.libpq_env(role), "PGAPPNAME": role}
        try:
            running = await stack.enter_async_context(
                running_service(
                    ServiceSpec(self.flavour, spec.fault),
                    env,
                    self.workdir / "logs",
                    instance=f"{spec.name}-run{self._restarts(spec.name)}",
                    version=spec.version,
                    port=port,
                )
            )
            pod = self._pod_state(spec)
            pod.pid = running.pid
            if spec.cpu_quota_cores is not None or spec.cpu_request_cores is not None:
                group = CpuCgroup.create(
                    f"lab-{self._tag}-{spec.name}", spec.cpu_quota_cores, shares=_shares(spec)
                )
                stack.callback(group.remove)
                await asyncio.to_thread(group.add, running.pid)
                pod.cgroup = group
            if spec.pinned_core is not None:
                await asyncio.to_thread(pin_to_core, running.pid, spec.pinned_core)
            if spec.memory_limit_mib is not None:
                limit = spec.memory_limit_mib * MIB
                memory = MemoryCgroup.create(f"lab-{self._tag}-{spec.name}", limit)
                stack.callback(memory.remove)
                await asyncio.to_thread(memory.add, running.pid)
                pod.memory_limit_bytes = limit
                self._memory[spec.name] = memory
        except BaseException:
            await stack.aclose()
            raise
        self._pods[spec.name] = stack
        self._running[spec.name] = running

    def _restarts(self, name: str) -> int:
        pod = self.state.pods.get(name)
        return 0 if pod is None else pod.restarts

    def _pod_state(self, spec: PodSpec) -> PodState:
        replicaset = self.state.new_replicaset(f"shop-{_digest(spec.version)}")
        pod = self.state.pods.get(spec.name)
        if pod is None:
            pod = PodState(spec.name, replicaset, f"lab/shop:{spec.version}")
            self.state.pods[spec.name] = pod
        pod.replicaset, pod.image = replicaset, f"lab/shop:{spec.version}"
        return pod

    async def restart(
        self,
        name: str,
        *,
        fault: str | None = None,
        version: str | None = None,
        reason: str = "Completed",
    ) -> None:
        """Stop the pod's process and start it again on the same port. With the same version
        it is a container restart (counted, with `reason`); with a new `version` it is a
        rollout (a new ReplicaSet and image, and a fresh container that has not restarted)."""
        spec = self.specs[name]
        new = dataclasses.replace(spec, fault=fault or spec.fault, version=version or spec.version)
        pod = self.state.pods[name]
        pod.cpu_seconds_before += process_cpu_seconds(pod.pid)
        port = int(self._running[name].url.rsplit(":", 1)[1])
        self._busy.add(name)
        try:
            await self._pods.pop(name).aclose()
            if new.version == spec.version:
                pod.restarts += 1
                pod.last_terminated_reason = reason
            self.specs[name] = new
            await self._start_pod(new, port=port)
        finally:
            self._busy.discard(name)
        if name in self._restarted:
            self._restarted.pop(name).set()

    @contextlib.asynccontextmanager
    async def frozen(self, name: str) -> AsyncIterator[None]:
        """The pod's process stopped (SIGSTOP) but not ended, as a loop blocked for good leaves
        it: it keeps its port and answers nothing, scrapes included. Resumed on exit."""
        pid = self._running[name].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    async def crash(self, name: str) -> None:
        """Kill the pod's process (SIGKILL) as a crash would, and return once the supervisor
        has started it again (after a back-off, from the second crash on)."""
        restarted = self._restarted[name] = asyncio.Event()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._running[name].pid, signal.SIGKILL)
        await restarted.wait()

    async def _supervise(self) -> None:
        """Restart a pod whose process died, as the kubelet would: the reason is OOMKilled
        when its memory cgroup recorded a kill, else Error; quick repeats wait in
        CrashLoopBackOff."""
        seen_kills: dict[str, int] = {}
        while True:
            await asyncio.sleep(SUPERVISE_S)
            for name, running in list(self._running.items()):
                if name in self._busy or _alive(running.pid):
                    continue
                memory = self._memory.get(name)
                kills = memory.oom_kills() if memory else 0
                reason = "OOMKilled" if kills > seen_kills.get(name, 0) else "Error"
                seen_kills[name] = kills
                await self._crashed(name, reason)

    async def _crashed(self, name: str, reason: str) -> None:
        pod = self.state.pods[name]
        pod.ready = False
        if pod.restarts >= 1:
            pod.waiting_reason = "CrashLoopBackOff"
            await asyncio.sleep(BACKOFF_S)
        await self.restart(name, reason=reason)
        pod.waiting_reason, pod.ready = "", True

    async def _stop_pods(self) -> None:
        for stack in list(self._pods.values()):
            await stack.aclose()
        self._pods.clear()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _job(name: str, targets: list[str]) -> dict[str, object]:
    return {"job_name": name, "static_configs": [{"targets": targets}]}


def _shares(spec: PodSpec) -> int:
    if spec.cpu_request_cores is None:
        return DEFAULT_SHARES
    return shares_for_request(spec.cpu_request_cores)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
