"""End to end: both flavours, healthy and with a blocked event loop, seen through Prometheus.

Starts a private PostgreSQL cluster, four Node.js services with their downstreams,
the load generator, Prometheus and Alertmanager, and a webhook receiver standing in for the bot.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from lab import Flavour, LabDatabase, LabStack, Webhook
from lab.nodeapp import LAB_AGENT_TOKEN
from lab.packages import missing_packages
from lab.rules import EVENTLOOP_P99
from tests.waiting import eventually

pytestmark = [
    pytest.mark.lab,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]

TOKEN = "lab-smoke-token-4b7d"
FAULT = "event_loop_blocked"
TIMEOUT = aiohttp.ClientTimeout(total=3)

EXPECTED_SERIES: dict[Flavour, list[str]] = {
    "promclient": [
        "http_request_duration_seconds_bucket",
        "http_client_request_duration_seconds_bucket",
        "nodejs_eventloop_lag_p99_seconds",
        "nodejs_heap_size_used_bytes",
        "nodejs_external_memory_bytes",
        "nodejs_gc_duration_seconds_count",
        "nodejs_active_handles",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "db_client_connection_pending_requests",
        "db_client_connection_max",
        "db_client_operation_duration_seconds_bucket",
    ],
    "otel": [
        "http_server_request_duration_bucket",
        "http_client_request_duration_bucket",
        "nodejs_eventloop_delay_p99",
        "nodejs_eventloop_utilization",
        "v8js_memory_heap_used",
        "v8js_gc_duration_count",
        "v8js_resource_active",
        "process_cpu_time_total",
        "process_memory_usage",
        "db_client_connection_pending_requests",
        "db_client_connection_max",
        "db_client_operation_duration_bucket",
    ],
}


@dataclass
class WebhookInbox:
    url: str
    authorizations: list[str] = field(default_factory=list)
    alert_names: set[tuple[str, str]] = field(default_factory=set)


@pytest.fixture
async def inbox() -> AsyncIterator[WebhookInbox]:
    received = WebhookInbox(url="")

    async def alerts(request: web.Request) -> web.Response:
        received.authorizations.append(request.headers.get("Authorization", ""))
        for alert in (await request.json())["alerts"]:
            labels = alert["labels"]
            received.alert_names.add((labels["alertname"], labels.get("job", "")))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/alerts", alerts)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    received.url = f"http://{host}:{port}/alerts"
    try:
        yield received
    finally:
        await runner.cleanup()


def lag_p99(job_pattern: str) -> str:
    # Lag gauges are reset on every scrape; judge the last few seconds, as the alert rule does.
    gauge = f'{{__name__=~"{EVENTLOOP_P99}",job=~"{job_pattern}"}}'
    return f"max by (job) (max_over_time({gauge}[10s]))"


async def test_lab_exports_every_signal_and_the_fault_moves_event_loop_lag(
    inbox: WebhookInbox,
) -> None:
    webhook = Webhook(url=inbox.url, token=SecretStr(TOKEN))
    async with LabStack(
        faults=["healthy", FAULT], webhook=webhook, load_rps=20, load_duration_s=110
    ) as lab:
        assert len(lab.jobs()) == 4
        await lab.wait_for('count(up{job=~"lab-.*"} == 1) == 4', timeout_s=20)

        for flavour, names in EXPECTED_SERIES.items():
            job = lab.service_job(flavour, "healthy")
            wanted = "|".join(names)
            found = await lab.wait_for(
                f'count by (__name__) ({{job="{job}",__name__=~"{wanted}"}})', timeout_s=20
            )
            assert {row["metric"]["__name__"] for row in found} == set(names)

        await lab.wait_for(f"count({lag_p99(f'.*-{FAULT}')} > 0.1) == 2", timeout_s=20)
        blocked = await lab.query(f"{lag_p99(f'.*-{FAULT}')} > 0.1")
        assert {row["metric"]["job"] for row in blocked} == {
            lab.service_job("promclient", FAULT),
            lab.service_job("otel", FAULT),
        }
        await assert_every_agent_answers(lab)
        healthy_lag = await lab.prometheus.values(lag_p99(".*-healthy"))
        assert len(healthy_lag) == 2
        assert max(healthy_lag.values()) < 0.1

        expected_alerts = {("EventLoopLagHigh", row["metric"]["job"]) for row in blocked}
        await eventually(lambda: expected_alerts <= inbox.alert_names, 30, every=0.5)
        assert expected_alerts <= inbox.alert_names
        assert not any(job.endswith("-healthy") for _, job in inbox.alert_names)
        assert set(inbox.authorizations) == {f"Bearer {TOKEN}"}
        service_url = lab.service("otel", FAULT).url
        database = lab.database

    await assert_torn_down(service_url, lab.prometheus_url, lab.workdir, database)


async def assert_every_agent_answers(lab: LabStack) -> None:
    """Each service, in both flavours, runs the agent loaded with --require."""
    headers = {"Authorization": f"Bearer {LAB_AGENT_TOKEN}"}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for running in lab.services.values():
            url = f"http://127.0.0.1:{running.agent_port}/v1/status"
            async with session.get(url, headers=headers) as response:
                assert response.status == 200, running.spec
                assert (await response.json())["capturing"] is False


async def assert_torn_down(
    service_url: str, prometheus_url: str, workdir: Path, database: LabDatabase
) -> None:
    for url in (service_url, prometheus_url):
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as session, session.get(url, timeout=TIMEOUT):
                pass
    assert not await asyncio.to_thread(workdir.exists)
    with pytest.raises(ConnectionRefusedError):  # the private cluster is gone with its port
        await asyncio.open_connection(database.host, database.port)
