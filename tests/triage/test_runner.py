"""The shared triage runner: a real Prometheus scraping the lab's expositions, APM backends
picked from the catalog, detection cached per service, and the per-triage query cap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.catalog import Catalog, parse_catalog
from bot.models import EndpointStat, Finding, StepResult, TriageReport
from bot.sources.apm.settings import ApmSettings
from bot.sources.base import MetricsUnavailable
from bot.sources.conventions import ConventionDetector
from bot.sources.nodejs_conventions import PROM_CLIENT
from bot.sources.prometheus import PrometheusClient
from bot.sources.signals import Signal
from bot.triage.runner import ServiceTriageRunner, UnknownService, apm_target_of
from bot.triage.service_source import wire_service
from bot.triage.window import parse_window
from tests.fakes.datadog import FakeDatadog
from tests.promstack import (
    PrometheusStack,
    fixture_text,
    free_port,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_app,
    serve_exposition,
)
from tests.sources.apm.oracle import quantiles
from tests.triage.helpers import nodejs_playbook

CATALOG = """
services:
  orders-api:
    selector: {service: orders-api}
    slo: {p99_ms: 800}
  orders-otel:
    selector: {job: otel}
  orders-dd:
    selector: {service: orders-api}
    apm: {backend: datadog, service: orders, env: prod}
  orders-nr:
    selector: {service: orders-api}
    apm: {backend: newrelic, app_name: Orders (prod), account_id: 42}
  orders-tuned:
    selector: {service: orders-api}
    metrics: {rss: nodejs_heap_size_used_bytes}
"""
needs_prometheus = pytest.mark.skipif(
    not prometheus_available(), reason="needs /usr/bin/prometheus"
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG)


@pytest.fixture
async def lab() -> AsyncIterator[PrometheusStack]:
    promclient = growing_counters(fixture_text("promclient.txt"))
    otel = growing_counters(fixture_text("otel.txt"))
    async with (
        serve_exposition(promclient) as orders,
        serve_exposition(otel) as otel_target,
        run_prometheus({"orders": [orders], "otel": [otel_target]}) as prom,
    ):
        await prom.wait_for_series('http_request_duration_seconds_count{service="orders-api"}')
        await prom.wait_for_series('http_server_request_duration_count{job="otel"}')
        for job in ("orders", "otel"):  # rates and per-step lag peaks need a few scrapes
            await prom.wait_for_scrapes(job, 4)
        yield prom


def findings(report: TriageReport, code: str) -> list[Finding]:
    return [f for step in report.steps for f in step.findings if f.code == code]


def observed(report: TriageReport, code: str) -> dict[str, float | str | None]:
    return findings(report, code)[0].evidence.observed


@needs_prometheus
async def test_prom_client_service_gets_signals_and_apm_from_prometheus(
    lab: PrometheusStack, catalog: Catalog
) -> None:
    detector = ConventionDetector()
    async with PrometheusClient(lab.url) as client:
        runner = ServiceTriageRunner(catalog, nodejs_playbook(), client, detector=detector)
        seen: list[str] = []

        async def on_step(step: StepResult) -> None:
            seen.append(step.id)

        report = await runner.run("orders-api", "1m", on_step=on_step)
        after_first = client.queries_made
        await runner.run("orders-api", "1m")
        second = client.queries_made - after_first
    assert sorted(seen) == sorted(step.id for step in runner.planned_steps())
    assert report.backend_errors == ()
    assert observed(report, "eventloop_lag")["p99_ms"] == pytest.approx(19.8, abs=0.1)
    p99 = quantiles(
        fixture_text("promclient.txt"), "http_request_duration_seconds", ("route",), 0.99
    )
    slowest = max(p99, key=lambda route: p99[route])
    endpoint = observed(report, "slowest_endpoint")
    assert endpoint["endpoint"] == slowest
    assert endpoint["p99_ms"] == pytest.approx(p99[slowest] * 1000, abs=0.1)
    assert detector.cached_selectors == 1
    assert second == after_first - 1  # the second triage skips the metric-name lookup


@needs_prometheus
async def test_otel_service_reads_its_own_convention(
    lab: PrometheusStack, catalog: Catalog
) -> None:
    async with PrometheusClient(lab.url) as client:
        report = await ServiceTriageRunner(catalog, nodejs_playbook(), client).run(
            "orders-otel", "1m"
        )
    assert report.backend_errors == ()
    text = fixture_text("otel.txt")
    p99 = quantiles(text, "http_server_request_duration", ("http_route",), 0.99)
    assert observed(report, "slowest_endpoint")["endpoint"] == max(p99, key=lambda r: p99[r])
    assert observed(report, "slowest_downstream")["dependency"] == "127.0.0.1:3202"


@needs_prometheus
async def test_catalog_overrides_win_over_detection(lab: PrometheusStack, catalog: Catalog) -> None:
    window = parse_window("1m", end=time.time())
    async with PrometheusClient(lab.url) as client:
        wired = await wire_service(client.caller(), catalog.services["orders-tuned"])
        fetched = await wired.source.fetch({Signal.RSS, Signal.HEAP_USED}, window)
    assert wired.metric_names is not None
    assert "process_resident_memory_bytes" in wired.metric_names  # detected, yet overridden
    assert "nodejs_heap_size_used_bytes" in fetched.queries["rss"]
    assert fetched.get("rss")[0].points[-1][1] == fetched.get("heap_used")[0].points[-1][1]


@needs_prometheus
async def test_detection_failure_makes_every_fetch_unreachable(catalog: Catalog) -> None:
    async with PrometheusClient(f"http://127.0.0.1:{free_port()}") as client:
        runner = ServiceTriageRunner(catalog, nodejs_playbook(), client)
        report = await runner.run("orders-api", "10m")
        requests = client.requests_sent
    assert len(report.backend_errors) == 1
    assert "Could not connect to Prometheus" in report.backend_errors[0]
    assert requests == 1  # neither the signals nor the APM ask a Prometheus known to be down
    assert {step.status for step in report.steps} == {"unknown"}


@needs_prometheus
async def test_datadog_service_uses_its_credentials_and_target(
    lab: PrometheusStack, catalog: Catalog
) -> None:
    fake = FakeDatadog()
    await fake.start()
    slow = EndpointStat(name="post_/orders", p95=1.1, p99=2.5, rate=3.0, error_rate=0.01)
    fake.seed_endpoints("orders", "prod", [slow])
    settings = ApmSettings(
        datadog_api_key=SecretStr(fake.api_key),
        datadog_app_key=SecretStr(fake.application_key),
        datadog_url=fake.base_url,
    )
    try:
        async with (
            PrometheusClient(lab.url) as client,
            ServiceTriageRunner(catalog, nodejs_playbook(), client, settings) as runner,
        ):
            report = await runner.run("orders-dd", "1m")
    finally:
        await fake.stop()
    assert observed(report, "slowest_endpoint")["endpoint"] == "post_/orders"
    assert fake.requests
    assert observed(report, "eventloop_lag")["p99_ms"] == pytest.approx(19.8, abs=0.1)


@needs_prometheus
async def test_an_apm_backend_that_cannot_work_only_blinds_the_apm_checks(
    lab: PrometheusStack, catalog: Catalog
) -> None:
    async with (
        PrometheusClient(lab.url) as client,
        ServiceTriageRunner(catalog, nodejs_playbook(), client) as runner,  # no Datadog keys
    ):
        report = await runner.run("orders-dd", "1m")
    failed = [f.summary for f in findings(report, "check_failed")]
    assert any("slowest_endpoint" in s and "DATADOG_API_KEY" in s for s in failed)
    assert report.backend_errors == ()
    assert next(s for s in report.steps if s.id == "event_loop").status == "ok"
    assert observed(report, "slowest_downstream")["dependency"] == "127.0.0.1:3201"


def test_apm_targets_come_from_the_catalog(catalog: Catalog) -> None:
    dd = apm_target_of(catalog.services["orders-dd"])
    nr = apm_target_of(catalog.services["orders-nr"])
    prom = apm_target_of(catalog.services["orders-otel"])
    assert (dd.service, dd.env) == ("orders", "prod")
    assert (nr.app_name, nr.account_id) == ("Orders (prod)", 42)
    assert (prom.service, prom.selector) == ("orders-otel", {"job": "otel"})


async def test_unknown_service_names_the_closest(catalog: Catalog) -> None:
    runner = ServiceTriageRunner(catalog, nodejs_playbook(), None)
    with pytest.raises(UnknownService) as caught:
        await runner.run("orders-apii", "10m")
    assert caught.value.closest[0] == "orders-api"
    assert "did you mean orders-api" in str(caught.value)


async def test_without_prometheus_the_runner_says_how_to_configure_it(catalog: Catalog) -> None:
    runner = ServiceTriageRunner(catalog, nodejs_playbook(), None)
    with pytest.raises(MetricsUnavailable, match="PROMETHEUS_URL"):
        await runner.run("orders-api", "10m")


@dataclass
class SlowPrometheus:
    """Answers every API call after `delay`, counting how many are in flight at once."""

    delay: float = 0.05
    in_flight: int = 0
    peak: int = 0
    paths: list[str] | None = None

    async def answer(self, request: web.Request) -> web.Response:
        self.paths = [*(self.paths or []), request.path]
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if request.path.endswith("/values"):
            names = sorted(
                {n for rs in PROM_CLIENT.recipes.values() for r in rs for n in r.required}
            )
            return web.json_response({"status": "success", "data": names})
        kind = "vector" if request.path.endswith("/query") else "matrix"
        return web.json_response({"status": "success", "data": {"resultType": kind, "result": []}})


async def test_detection_signals_and_apm_share_the_cap_of_four(catalog: Catalog) -> None:
    stand_in = SlowPrometheus()
    app = web.Application()
    app.router.add_route("*", "/api/v1/{tail:.*}", stand_in.answer)
    async with serve_app(app) as address, PrometheusClient(f"http://{address}") as client:
        runner = ServiceTriageRunner(catalog, nodejs_playbook(), client)
        await runner.run("orders-api", "10m")
    paths = stand_in.paths or []
    assert paths[0].endswith("/label/__name__/values")
    assert paths.count("/api/v1/query") == 2  # slowest endpoints, slowest downstreams
    assert 1 <= paths.count("/api/v1/query_range") <= 4
    assert stand_in.peak == 4


@needs_prometheus
async def test_prefixed_default_metrics_are_measured_and_the_prefix_is_reported() -> None:
    exposition = growing_counters(fixture_text("sample_promclient_prefixed_bundle.txt"))
    catalog = parse_catalog("services:\n  shop:\n    selector: {job: shop}\n")
    async with (
        serve_exposition(exposition) as target,
        run_prometheus({"shop": [target]}) as prom,
    ):
        await prom.wait_for_series('shop_nodejs_eventloop_lag_p99_seconds{job="shop"}')
        await prom.wait_for_scrapes("shop", 4)  # rates and per-step lag peaks need several
        async with PrometheusClient(prom.url) as client:
            report = await ServiceTriageRunner(catalog, nodejs_playbook(), client).run("shop", "1m")
    assert report.metrics is not None
    assert (report.metrics.convention, report.metrics.prefix) == ("prom-client", "shop_")
    by_id = {step.id: step for step in report.steps}
    assert by_id["event_loop"].status != "unknown"
    assert by_id["memory"].status != "unknown"
    assert observed(report, "eventloop_lag")["p99_ms"] is not None
    text = fixture_text("sample_promclient_prefixed_bundle.txt")
    p99 = quantiles(text, "http_request_duration_seconds", ("path",), 0.99)
    assert observed(report, "slowest_endpoint")["endpoint"] == max(p99, key=lambda r: p99[r])
