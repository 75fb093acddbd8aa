"""Memory growth is named soon after the first scrape, and healthy services stay clean.

Heap and native-memory growth next to a healthy service, per flavour, scraped every second.
The triage (in-process, the same runner the CLI uses) is asked about all three every second
from their first scrape, so the time to a correct diagnosis is read to the second. No answer
for the healthy service may have a `crit` step; a passing warning (a database operation slowed
by the machine's load, say) is allowed and printed with the answers.
The table goes to `.run/growth-speed.md`; the target is 15 s from the first scrape.

    .venv/bin/pytest -m lab tests/lab/test_growth_speed.py -s
"""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from bot.catalog import parse_catalog
from bot.models import TriageReport
from bot.sources.prometheus import PrometheusClient
from bot.triage.runner import ServiceTriageRunner
from lab import Flavour, LabStack
from lab.packages import missing_packages
from tests.lab.scorecard import REPO_ROOT
from tests.triage.helpers import nodejs_playbook

pytestmark = [
    pytest.mark.lab,
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed"),
    pytest.mark.skipif(bool(missing_packages()), reason="Prometheus/Alertmanager not installed"),
]
FAULTS = ("heap_leak", "native_memory_growth", "healthy")
REPORT = REPO_ROOT / ".run" / "growth-speed.md"
DEADLINE_S = 60.0
WINDOW = "2m"


def healthy_enough(report: TriageReport) -> bool:
    return report.diagnosis.cause == "healthy" and all(s.status != "crit" for s in report.steps)


@pytest.mark.parametrize("flavour", ["promclient", "otel"])
async def test_growth_is_named_and_healthy_services_stay_clean(flavour: Flavour) -> None:
    pairs = [(flavour, fault) for fault in FAULTS]
    async with LabStack(pairs=pairs) as lab:
        jobs = {fault: lab.service_job(flavour, fault) for fault in FAULTS}
        services = "".join(
            f"  svc-{i}:\n    selector: {{job: {job}}}\n" for i, job in enumerate(jobs.values())
        )
        catalog = parse_catalog("services:\n" + services)
        names = {fault: f"svc-{i}" for i, fault in enumerate(jobs)}
        pattern = "|".join(jobs.values())
        await lab.wait_for(f'count(up{{job=~"{pattern}"}} == 1) == 3', timeout_s=30)
        started = time.monotonic()
        answers: dict[str, list[tuple[float, str]]] = {fault: [] for fault in FAULTS}
        first_right: dict[str, float] = {}
        async with PrometheusClient(lab.prometheus_url) as client:
            runner = ServiceTriageRunner(catalog, nodejs_playbook(), client)
            while len(first_right) < len(FAULTS) and time.monotonic() - started < DEADLINE_S:
                reports = await asyncio.gather(*(runner.run(names[f], WINDOW) for f in FAULTS))
                at = time.monotonic() - started
                for fault, report in zip(FAULTS, reports, strict=True):
                    answers[fault].append((round(at, 1), report.diagnosis.cause))
                    right = (
                        healthy_enough(report)
                        if fault == "healthy"
                        else report.diagnosis.cause == fault
                    )
                    if right and fault not in first_right:
                        first_right[fault] = at
                    if fault == "healthy":  # the target: no false crit, at any answer
                        assert all(s.status != "crit" for s in report.steps), report.diagnosis
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started - at)))
    rows = [
        f"| {fault} | {flavour} | {first_right.get(fault, float('nan')):.0f} s |"
        for fault in FAULTS
    ]
    REPORT.parent.mkdir(exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as report_file:
        report_file.write("\n".join(rows) + "\n")
    print("\n".join(rows))
    print({fault: answers[fault][:20] for fault in FAULTS})
    assert set(first_right) == set(FAULTS), answers
