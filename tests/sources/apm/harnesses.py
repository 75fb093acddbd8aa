"""One harness per registered APM backend, so the contract suite can drive each the same way.

A harness owns the backend's stand-in (a fake server, or a real Prometheus), seeds it from plain
`EndpointStat`/`DownstreamStat` truth (seconds, per second, 0..1), injects failures, and builds
the backend through the registry. A backend added to `bot.sources.apm.BACKENDS` needs a
harness here; the suite fails until it has one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat
from bot.sources.apm import BACKENDS, ApmBackend, ApmBackendOptions, ApmTarget
from tests.fakes.datadog import FakeDatadog
from tests.fakes.newrelic import FakeNewRelic
from tests.fakes.server import Failure

from .prometheus_harness import start_prometheus


class Harness(Protocol):
    name: str  # the registry key
    display_name: str
    target: ApmTarget
    secrets: tuple[str, ...]
    window_seconds: int  # the window the suite asks about (what a real backend can cover)
    rate_tolerance: float  # relative; measured rates wobble where seeded ones do not

    async def seed(
        self, endpoints: list[EndpointStat], downstreams: list[DownstreamStat]
    ) -> None: ...

    def fail_with(self, failure: Failure | None, server_errors: int = 0) -> None: ...

    def request_count(self) -> int: ...

    def build(self, *, timeout_seconds: float = 5.0, wrong_key: bool = False) -> ApmBackend: ...

    def build_unreachable(self, base_url: str) -> ApmBackend: ...


class _FakeHarness:
    window_seconds = 900
    rate_tolerance = 1e-6

    def __init__(self, fake: FakeDatadog | FakeNewRelic, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    def fail_with(self, failure: Failure | None, server_errors: int = 0) -> None:
        self.fake.failure = failure
        self.fake.server_errors = server_errors

    def request_count(self) -> int:
        return len(self.fake.requests)


class DatadogHarness(_FakeHarness):
    name = "datadog"
    display_name = "Datadog"
    target = ApmTarget(service="checkout", env="prod")

    def __init__(self, fake: FakeDatadog, session: aiohttp.ClientSession) -> None:
        super().__init__(fake, session)
        self.datadog = fake
        self.secrets: tuple[str, ...] = (fake.api_key, fake.application_key, "dd-wrong-key-000000")

    async def seed(self, endpoints: list[EndpointStat], downstreams: list[DownstreamStat]) -> None:
        assert self.target.env is not None
        self.datadog.seed_endpoints(self.target.service, self.target.env, endpoints)
        self.datadog.seed_downstreams(self.target.service, self.target.env, downstreams)

    def build(self, *, timeout_seconds: float = 5.0, wrong_key: bool = False) -> ApmBackend:
        return self._build(self.fake.base_url, timeout_seconds, wrong_key)

    def build_unreachable(self, base_url: str) -> ApmBackend:
        return self._build(base_url, 2.0, False)

    def _build(self, base_url: str, timeout_seconds: float, wrong_key: bool) -> ApmBackend:
        api_key = self.secrets[2] if wrong_key else self.datadog.api_key
        return BACKENDS["datadog"](
            ApmBackendOptions(
                session=self.session,
                api_key=SecretStr(api_key),
                application_key=SecretStr(self.datadog.application_key),
                base_url=base_url,
                timeout_seconds=timeout_seconds,
            )
        )


class NewRelicHarness(_FakeHarness):
    name = "newrelic"
    display_name = "New Relic"
    target = ApmTarget(service="checkout", app_name="Checkout (prod)", account_id=1234567)

    def __init__(self, fake: FakeNewRelic, session: aiohttp.ClientSession) -> None:
        super().__init__(fake, session)
        self.newrelic = fake
        self.secrets: tuple[str, ...] = (fake.api_key, "NRAK-WRONGKEY000000000000")

    async def seed(self, endpoints: list[EndpointStat], downstreams: list[DownstreamStat]) -> None:
        assert self.target.account_id is not None
        assert self.target.app_name is not None
        self.newrelic.seed_endpoints(self.target.account_id, self.target.app_name, endpoints)
        self.newrelic.seed_downstreams(self.target.account_id, self.target.app_name, downstreams)

    def build(self, *, timeout_seconds: float = 5.0, wrong_key: bool = False) -> ApmBackend:
        return self._build(self.fake.base_url + "/graphql", timeout_seconds, wrong_key)

    def build_unreachable(self, base_url: str) -> ApmBackend:
        return self._build(base_url + "/graphql", 2.0, False)

    def _build(self, url: str, timeout_seconds: float, wrong_key: bool) -> ApmBackend:
        api_key = self.secrets[1] if wrong_key else self.newrelic.api_key
        return BACKENDS["newrelic"](
            ApmBackendOptions(
                session=self.session,
                api_key=SecretStr(api_key),
                base_url=url,
                timeout_seconds=timeout_seconds,
            )
        )


async def _start_datadog(
    session: aiohttp.ClientSession,
) -> tuple[Harness, Callable[[], Awaitable[None]]]:
    fake = FakeDatadog()
    await fake.start()
    harness: Harness = DatadogHarness(fake, session)
    return harness, fake.stop


async def _start_newrelic(
    session: aiohttp.ClientSession,
) -> tuple[Harness, Callable[[], Awaitable[None]]]:
    account_id = NewRelicHarness.target.account_id
    fake = FakeNewRelic(accounts=(account_id,) if account_id is not None else ())
    await fake.start()
    harness: Harness = NewRelicHarness(fake, session)
    return harness, fake.stop


HarnessStarter = Callable[
    [aiohttp.ClientSession], Awaitable[tuple[Harness, Callable[[], Awaitable[None]]]]
]

# Keyed like bot.sources.apm.BACKENDS. Each starter returns the harness and how to stop it.
HARNESSES: dict[str, HarnessStarter] = {
    "datadog": _start_datadog,
    "newrelic": _start_newrelic,
    "prometheus": start_prometheus,
}
