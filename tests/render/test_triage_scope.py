"""The Slack thread and the terminal say which instances and what changed, in words, with
every label value from the metrics escaped."""

from __future__ import annotations

import json

from bot.models import (
    Change,
    Diagnosis,
    Finding,
    InstanceScope,
    PlannedStep,
    StepResult,
    TriageProgress,
)
from bot.slack.render.triage import checklist_blocks
from bot.triage.scope import with_scope
from bot.triage.text import render_report
from tests.triage.helpers import triage_recording

DEPLOY = Change(kind="deploy", at=1_800_000_000.0, detail="shop 1.5.0 <!channel> by ci")


def progress(diagnosis: Diagnosis) -> TriageProgress:
    return TriageProgress(
        service="shop",
        window="10m",
        planned=[PlannedStep(id="memory", title="Memory")],
        diagnosis=diagnosis,
    )


def rendered(diagnosis: Diagnosis) -> str:
    return json.dumps([block.to_dict() for block in checklist_blocks(progress(diagnosis))])


async def test_the_thread_names_the_pod_and_lists_what_changed_escaped() -> None:
    report = await triage_recording("event_loop_blocked_one_pod")
    diagnosis = report.diagnosis.model_copy(update={"changes": (DEPLOY,)})
    text = rendered(diagnosis)
    assert "Only 1 of 3 instances show it: shop-6d8f9-b2." in text
    assert "*What changed*" in text
    assert "deploy at 08:00:00 UTC: shop 1.5.0 &lt;!channel&gt; by ci" in text
    assert "<!channel>" not in text


def test_no_changes_no_section() -> None:
    diagnosis = Diagnosis(cause="healthy", confidence=0.9, summary="Fine.")
    assert "What changed" not in rendered(diagnosis)


async def test_the_terminal_lists_the_changes_under_the_diagnosis() -> None:
    report = await triage_recording("event_loop_blocked_after_deploy")
    text = render_report(report)
    assert "  What changed:\n    - restart at " in text
    assert "service version 1.4.2 -> 1.5.0" in text


def test_a_single_instance_gets_a_scope_but_no_words() -> None:
    diagnosis = Diagnosis(cause="heap_leak", confidence=0.8, summary="Grows.", supporting=("x",))
    scope = InstanceScope(instances_total=1, instances_affected=("shop-0",))
    step = StepResult(
        id="memory",
        title="Memory",
        status="warn",
        findings=(Finding(code="x", severity="warn", summary="up", scope=scope),),
    )
    scoped = with_scope(diagnosis, [step])
    assert scoped.scope == scope
    assert scoped.summary == "Grows."
