"""The Node.js side of the lab: dependencies, the service, its downstream and the load generator."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from lab.npm import npm_ci
from lab.procs import (
    ManagedProcess,
    free_port,
    free_ports,
    running_process,
    wait_until_ready,
)

NODE_DIR = Path(__file__).parent / "node"
# Every lab service loads the project's agent, as a user's service would: `--require`.
AGENT_REGISTER = Path(__file__).resolve().parents[1] / "agent" / "register.js"
# The lab's agents' bearer token (loopback only, test processes): the bot gets it as
# LAB_AGENT_TOKEN through the scorecard's catalog.
LAB_AGENT_TOKEN = "lab-agent-token-not-a-secret-0001"

Flavour = Literal["promclient", "otel"]
FLAVOURS: tuple[Flavour, ...] = get_args(Flavour)
# Mirrors FAULTS in node/faults.js; a test keeps the two in step.
FAULTS: tuple[str, ...] = (
    "healthy",
    "event_loop_blocked",
    "cpu_saturated",
    "heap_leak",
    "native_memory_growth",
    "gc_pressure",
    "db_pool_saturated",
    "slow_queries",
    "slow_downstream",
    "downstream_errors",
    "unbounded_concurrency",
    "error_spike",
    "missing_index",
    "n_plus_one_queries",
    "lock_contention",
    "connection_leak",
    "background_dependency_failing",
    "gc_harmless",
    "near_capacity",
)
# How a service names its metrics, per flavour (see node/config.js); a fault `name@style`
# runs fault `name` exporting in that style.
METRICS_STYLES: dict[str, tuple[str, ...]] = {
    "promclient": ("default", "prefixed"),
    "otel": ("default", "prefixed", "legacy_http"),
}


@dataclass(frozen=True)
class ServiceSpec:
    """One lab service. `fault` is a fault, two at once (`slow_downstream+heap_leak`), and
    optionally the metric style after `@` (`event_loop_blocked@prefixed`)."""

    flavour: Flavour
    fault: str

    def __post_init__(self) -> None:
        if self.flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, got {self.flavour!r}")
        for part in self.faults:
            if part not in FAULTS:
                raise ValueError(f"fault must be one of {FAULTS}, got {part!r}")
        styles = METRICS_STYLES[self.flavour]
        if self.metrics_style not in styles:
            raise ValueError(f"metrics style must be one of {styles}, got {self.metrics_style!r}")

    @property
    def behaviour(self) -> str:
        """The fault(s) the service runs, without the metric style."""
        return self.fault.partition("@")[0]

    @property
    def faults(self) -> tuple[str, ...]:
        return tuple(self.behaviour.split("+"))

    @property
    def metrics_style(self) -> str:
        return self.fault.partition("@")[2] or "default"

    @property
    def job(self) -> str:
        """The Prometheus job name, e.g. `lab-promclient-heap_leak`."""
        return f"lab-{self.flavour}-{self.fault}"


@dataclass(frozen=True)
class RunningService:
    spec: ServiceSpec
    url: str
    metrics_target: str  # host:port Prometheus scrapes at /metrics
    downstream_url: str
    agent_port: int  # the agent inside the service (agent/), bearer LAB_AGENT_TOKEN
    pid: int = 0  # the Node.js process, for putting it in a CPU or memory cgroup


async def ensure_node_modules() -> None:
    """The lab's Node.js packages, installed from package-lock.json unless they already are."""
    await asyncio.to_thread(npm_ci, NODE_DIR)


def _node_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env["NODE_ENV"] = "production"
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def running_downstream(log_dir: Path, name: str) -> AsyncIterator[str]:
    """A downstream process on a free port; yields its base URL."""
    port = free_port()
    argv = ["node", str(NODE_DIR / "downstream.js"), "--port", str(port)]
    log_path = log_dir / f"{name}-downstream.log"
    async with running_process(
        f"{name}-downstream", argv, log_path=log_path, env=_node_env({})
    ) as proc:
        url = f"http://127.0.0.1:{port}"
        await wait_until_ready(proc, f"{url}/admin/mode")
        yield url


@contextlib.asynccontextmanager
async def running_service(
    spec: ServiceSpec,
    database_env: Mapping[str, str],
    log_dir: Path,
    *,
    instance: str | None = None,
    version: str = "1.0.0",
    port: int | None = None,
) -> AsyncIterator[RunningService]:
    """The lab service for `spec` with a downstream of its own, ready and scrapeable.

    `instance` names one of several processes of the same service (its logs), `version` is
    what it reports as its own version, `port` reuses a port (a restart in place).
    """
    name = instance or spec.job
    async with running_downstream(log_dir, name) as downstream_url:
        fresh = free_ports(3, taken=(port,) if port else ())
        port = port or fresh[0]
        metrics_port = fresh[1] if spec.flavour == "otel" else port
        agent_port = fresh[2]
        argv = ["node", "--require", str(AGENT_REGISTER)]
        argv += [str(NODE_DIR / "server.js"), "--flavour", spec.flavour]
        argv += ["--port", str(port), "--metrics-port", str(metrics_port)]
        argv += ["--fault", spec.behaviour, "--metrics-style", spec.metrics_style]
        argv += ["--downstream", downstream_url, "--service-name", spec.job]
        agent_env = {"TRIAGE_AGENT_TOKEN": LAB_AGENT_TOKEN, "TRIAGE_AGENT_PORT": str(agent_port)}
        env = _node_env(
            {
                **database_env,
                **agent_env,
                "SERVICE_NAME": spec.job,
                "APP_VERSION": version,
                "OTEL_RESOURCE_ATTRIBUTES": f"service.version={version}",
            }
        )
        log_path = log_dir / f"{name}.log"
        async with running_process(name, argv, log_path=log_path, env=env) as proc:
            url = f"http://127.0.0.1:{port}"
            await wait_until_ready(proc, f"{url}/api/health")
            await wait_until_ready(proc, f"http://127.0.0.1:{metrics_port}/metrics")
            target = f"127.0.0.1:{metrics_port}"
            pid = proc.process.pid
            yield RunningService(spec, url, target, downstream_url, agent_port, pid)


@contextlib.asynccontextmanager
async def running_load(
    targets: Sequence[str], log_dir: Path, *, rps: float, duration_s: float
) -> AsyncIterator[ManagedProcess]:
    """Mixed traffic at `rps` per target until `duration_s` passes or the context exits."""
    argv = ["node", str(NODE_DIR / "load.js"), "--target", ",".join(targets)]
    argv += ["--rps", str(rps), "--duration", str(int(duration_s))]
    log_path = log_dir / "load.log"
    async with running_process("load", argv, log_path=log_path, env=_node_env({})) as proc:
        yield proc
