"""The whole lab in one context manager: database, services, load, Prometheus, Alertmanager.

    async with LabStack(flavours=["promclient", "otel"], faults=["healthy", "heap_leak"]) as lab:
        job = lab.service_job("otel", "heap_leak")  # "lab-otel-heap_leak"
        await lab.wait_for(f'up{{job="{job}"}} == 1')
        rows = await lab.query(f'nodejs_eventloop_delay_p99{{job="{job}"}}')

Every (flavour, fault) pair becomes one service with its own downstream and one Prometheus
job. Everything runs on free 127.0.0.1 ports and is stopped and removed when the block exits,
whether it ends normally, with an error, or by cancellation (Ctrl-C included).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from lab.monitoring import Webhook, running_alertmanager, running_prometheus
from lab.nodeapp import (
    FLAVOURS,
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
from lab.rules import RuleSettings

T = TypeVar("T")


class LabStack:
    """Start the lab on entry, tear all of it down on exit. See the module docstring."""

    def __init__(
        self,
        flavours: Iterable[Flavour] = FLAVOURS,
        faults: Iterable[str] = ("healthy",),
        *,
        webhook: Webhook | None = None,
        rules: RuleSettings | None = None,
        load_rps: float = 20.0,
        load_duration_s: float = 900.0,
        install_packages: bool = True,
        keep_workdir: bool = False,
        pairs: Iterable[tuple[Flavour, str]] | None = None,
    ) -> None:
        # `pairs` picks exact (flavour, fault) services instead of every combination.
        chosen = itertools.product(flavours, faults) if pairs is None else pairs
        self.specs = [ServiceSpec(f, fault) for f, fault in chosen]
        if not self.specs:
            raise ValueError("LabStack needs at least one flavour and one fault")
        self._webhook = webhook
        self._rules = rules
        self._load_rps = load_rps
        self._load_duration_s = load_duration_s
        self._install_packages = install_packages
        self._keep_workdir = keep_workdir
        self._exit_stack = contextlib.AsyncExitStack()
        self._services: dict[ServiceSpec, RunningService] = {}
        self._database: LabDatabase | None = None
        self._prometheus_url: str | None = None
        self._alertmanager_url: str | None = None
        self.workdir = Path()

    @property
    def prometheus_url(self) -> str:
        return _started(self._prometheus_url, "prometheus_url")

    @property
    def alertmanager_url(self) -> str:
        return _started(self._alertmanager_url, "alertmanager_url")

    @property
    def database(self) -> LabDatabase:
        return _started(self._database, "database")

    @property
    def services(self) -> Mapping[ServiceSpec, RunningService]:
        return dict(self._services)

    @property
    def prometheus(self) -> PrometheusApi:
        return PrometheusApi(self.prometheus_url)

    def service_job(self, flavour: Flavour, fault: str) -> str:
        return ServiceSpec(flavour, fault).job

    def database_role(self, flavour: Flavour, fault: str) -> str:
        """The role (and application name) the service connects to PostgreSQL as."""
        return role_for(self.service_job(flavour, fault))

    def service(self, flavour: Flavour, fault: str) -> RunningService:
        spec = ServiceSpec(flavour, fault)
        if spec not in self._services:
            raise KeyError(f"{spec.job} is not part of this lab; started: {sorted(self.jobs())}")
        return self._services[spec]

    def jobs(self) -> list[str]:
        return [spec.job for spec in self.specs]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        return await self.prometheus.query(promql)

    async def wait_for(self, promql: str, *, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        return await self.prometheus.wait_for(promql, timeout_s=timeout_s)

    async def __aenter__(self) -> LabStack:
        try:
            await self._start()
        except BaseException:
            await self._exit_stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._exit_stack.aclose()

    async def _start(self) -> None:
        await ensure_debian_packages(install=self._install_packages)
        await ensure_node_modules()
        self.workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="lab-stack-"))
        if not self._keep_workdir:
            self._exit_stack.callback(shutil.rmtree, self.workdir, True)
        enter = self._exit_stack.enter_async_context
        self._database = await enter(lab_database(roles=[role_for(s.job) for s in self.specs]))
        await self._start_services(self.workdir / "logs")
        self._alertmanager_url = await enter(
            running_alertmanager(self.workdir / "alertmanager", self._webhook)
        )
        jobs = {spec.job: service.metrics_target for spec, service in self._services.items()}
        self._prometheus_url = await enter(
            running_prometheus(
                self.workdir / "prometheus",
                jobs,
                alertmanager=self._alertmanager_url.removeprefix("http://"),
                rules=self._rules,
            )
        )
        targets = [service.url for service in self._services.values()]
        await enter(self._load(targets))

    def _load(self, targets: Sequence[str]) -> contextlib.AbstractAsyncContextManager[Any]:
        return running_load(
            targets,
            self.workdir / "logs",
            rps=self._load_rps,
            duration_s=self._load_duration_s,
        )

    async def _start_services(self, log_dir: Path) -> None:
        async def start(spec: ServiceSpec) -> None:
            role = role_for(spec.job)
            database_env = {**self.database.libpq_env(role), "PGAPPNAME": role}
            running = running_service(spec, database_env, log_dir)
            self._services[spec] = await self._exit_stack.enter_async_context(running)

        # Start in parallel, but let every start finish before raising so that each service
        # that did come up is on the exit stack and gets stopped.
        results = await asyncio.gather(*(start(s) for s in self.specs), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _started(value: T | None, name: str) -> T:
    if value is None:
        raise RuntimeError(f"LabStack.{name} is only available inside `async with LabStack(...)`")
    return value
