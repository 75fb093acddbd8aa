"""A service of three instances behind a real Prometheus: per-instance readings name the one
that lags, and a deploy event sent to the bot reaches the triage's What changed step."""

from __future__ import annotations

import time

import pytest

from bot.catalog import parse_catalog
from bot.deploys.log import DeployLog
from bot.models import Change
from bot.sources.prometheus import PrometheusClient
from bot.store import MemoryStore
from bot.triage.runner import ServiceTriageRunner
from tests.promstack import (
    fixture_text,
    growing_counters,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.triage.helpers import nodejs_playbook

CATALOG = parse_catalog("services:\n  orders-api:\n    selector: {job: orders}\n")


def lagging(text: str) -> str:
    """The same exposition with the loop held for ~400 ms at p99 by busy code (0.9 cores:
    the counters grow by a tenth of their value a second)."""
    held = {
        "nodejs_eventloop_lag_p99_seconds{": "0.41",
        "nodejs_eventloop_lag_max_seconds{": "0.93",
        "process_cpu_seconds_total{": "9.0",
    }
    lines = []
    for line in text.splitlines():
        value = next((v for name, v in held.items() if line.startswith(name)), None)
        lines.append(line if value is None else f"{line.rsplit(' ', 1)[0]} {value}")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")
async def test_one_lagging_instance_of_three_is_named_and_the_deploy_listed() -> None:
    text = fixture_text("promclient.txt")
    store = MemoryStore()
    deploys = DeployLog(store)
    async with (
        serve_exposition(growing_counters(text)) as first,
        serve_exposition(growing_counters(lagging(text))) as second,
        serve_exposition(growing_counters(text)) as third,
        run_prometheus({"orders": [first, second, third]}) as prom,
    ):
        await prom.wait_for_series('count(nodejs_eventloop_lag_p99_seconds{job="orders"}) == 3')
        await prom.wait_for_scrapes("orders", 3)  # lag is read as a per-step peak
        deployed = Change(kind="deploy", at=time.time() - 5, detail="orders-api 2.0.0 by ci")
        await deploys.record("orders-api", deployed)
        async with PrometheusClient(prom.url) as client:
            runner = ServiceTriageRunner(CATALOG, nodejs_playbook(), client, deploys=deploys)
            report = await runner.run("orders-api", "1m")
    await store.close()
    assert report.backend_errors == ()
    assert report.diagnosis.cause == "event_loop_blocked"
    assert report.diagnosis.scope is not None
    assert report.diagnosis.scope.instances_total == 3
    assert report.diagnosis.scope.instances_affected == (second,)
    assert f"Only 1 of 3 instances show it: {second}." in report.diagnosis.summary
    assert deployed in report.diagnosis.changes
    changes = next(step for step in report.steps if step.id == "changes")
    assert changes.status == "ok"
    assert "deploy at" in changes.findings[0].summary
