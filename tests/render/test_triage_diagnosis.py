"""The diagnosis as the thread and the terminal show it: second faults with their shares,
and where the metrics were found."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.models import (
    Diagnosis,
    MetricsDetected,
    PlannedStep,
    SecondaryCause,
    TriageProgress,
    TriageReport,
)
from bot.slack.render.triage import checklist_blocks
from bot.triage.text import render_report

DIAGNOSIS = Diagnosis(
    cause="db_pool_saturated",
    confidence=0.8,
    summary="Requests are queueing for database connections.",
    share=0.68,
    secondary=(
        SecondaryCause(cause="event_loop_blocked", share=0.32, summary="The loop stalls."),
        SecondaryCause(cause="downstream_errors", share=0.0, summary="A collector fails."),
    ),
)


def test_the_thread_lists_second_faults_with_their_shares() -> None:
    progress = TriageProgress(
        service="shop",
        window="10m",
        planned=[PlannedStep(id="apm", title="APM")],
        diagnosis=DIAGNOSIS,
    )
    payload = json.dumps([block.to_dict() for block in checklist_blocks(progress)])
    assert "*Also found*" in payload
    assert "*event loop blocked* (32% of what users see): The loop stalls." in payload
    assert "*downstream errors* (explains none of what users see)" in payload


def test_the_terminal_report_shows_shares_and_the_metric_prefix() -> None:
    report = TriageReport(
        service="shop",
        window="10m",
        started_at=datetime(2026, 11, 30, tzinfo=UTC),
        duration_ms=120,
        steps=(),
        diagnosis=DIAGNOSIS,
        metrics=MetricsDetected(convention="prom-client", prefix="shop_"),
    )
    text = render_report(report)
    assert "  - event loop blocked (32% of the symptom): The loop stalls." in text
    assert "  - downstream errors (0% of the symptom): A collector fails." in text
    assert "Metrics: prom-client names under prefix shop_" in text
    dumped = json.loads(report.model_dump_json())
    assert dumped["diagnosis"]["secondary"][0] == {
        "cause": "event_loop_blocked",
        "share": 0.32,
        "summary": "The loop stalls.",
    }
