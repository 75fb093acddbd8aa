"""Shared helpers for the triage tests: recordings, a fake APM backend, the shipped playbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.models import DownstreamStat, EndpointStat, TriageReport
from bot.sources.apm.base import ApmTarget
from bot.sources.postgres.model import DatabaseEvidence
from bot.triage.checks.base import Targets
from bot.triage.engine import TriageRequest, run_triage
from bot.triage.playbook import Playbook, load_playbooks
from bot.triage.recorded import RecordedSignalSource
from bot.triage.window import parse_window

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(__file__).parent / "recordings"
END = 1_800_000_000.0


def nodejs_playbook() -> Playbook:
    return load_playbooks(ROOT / "playbooks")["nodejs"]


def recording(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return data


class FakeApm:
    """Answers from a recording's `apm` block, like a backend that always works."""

    name = "fake-apm"

    def __init__(self, data: dict[str, Any]) -> None:
        self.endpoints = [EndpointStat(**row) for row in data.get("endpoints", [])]
        self.downstreams = [DownstreamStat(**row) for row in data.get("downstreams", [])]
        self.calls = 0

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]:
        self.calls += 1
        return self.endpoints[:limit]

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]:
        self.calls += 1
        return self.downstreams[:limit]


class RecordedDatabase:
    """Answers with a recording's `database` block, as if the database had just been read."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.evidence = DatabaseEvidence.model_validate(data)
        self.calls = 0

    async def collect(self, window_s: float) -> DatabaseEvidence:
        self.calls += 1
        return self.evidence


async def triage_data(data: dict[str, Any]) -> TriageReport:
    """Triage an edited recording's signals over the usual 10m window."""
    return await run_triage(
        TriageRequest(
            service="shop",
            window=parse_window("10m", end=END),
            playbook=nodejs_playbook(),
            source=RecordedSignalSource.from_dict(data),
        )
    )


async def triage_recording(name: str, targets: Targets | None = None) -> TriageReport:
    data = recording(name)
    source = RecordedSignalSource.from_dict(data)
    apm = FakeApm(data["apm"]) if "apm" in data else None
    database = RecordedDatabase(data["database"]) if "database" in data else None
    request = TriageRequest(
        service=data["service"],
        window=parse_window("10m", end=END),
        playbook=nodejs_playbook(),
        source=source,
        targets=targets or Targets(p95_ms=300, p99_ms=800, availability_percent=99.5),
        apm=apm,
        database=database,
    )
    return await run_triage(request)


def finding_codes(report: TriageReport, *severities: str) -> set[str]:
    return {f.code for step in report.steps for f in step.findings if f.severity in severities}
