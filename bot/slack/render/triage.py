"""Block Kit for a triage: the checklist with a mark per step, then the diagnosis and advice."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, DividerBlock

from bot.models import (
    Diagnosis,
    Finding,
    PlannedStep,
    SecondaryCause,
    Status,
    StepResult,
    TriageProgress,
    TriageReport,
)
from bot.slack.render.blocks import Message, asked_by, context, fit_blocks, message, section
from bot.slack.render.text import code, escape

STEP_MARK: dict[Status | None, str] = {
    "ok": ":white_check_mark:",
    "warn": ":warning:",
    "crit": ":red_circle:",
    "unknown": ":grey_question:",
    None: ":hourglass_flowing_sand:",
}
MAX_FINDINGS_PER_STEP = 3


def checklist_text(progress: TriageProgress) -> str:
    if progress.diagnosis is None:
        done, total = len(progress.results), len(progress.planned)
        return escape(f"Triage of {progress.service}: {done}/{total} steps done")
    return escape(f"Triage of {progress.service}: likely cause {_words(progress.diagnosis.cause)}")


def checklist_message(progress: TriageProgress) -> Message:
    """The checklist in an incident's thread, edited as each step finishes."""
    return message(checklist_text(progress), checklist_blocks(progress))


def report_message(report: TriageReport, user: str) -> Message:
    """A finished triage someone asked for with `/triage`: the checklist and who asked."""
    progress = TriageProgress(
        service=report.service,
        window=report.window,
        planned=[PlannedStep(id=step.id, title=step.title) for step in report.steps],
        results={step.id: step for step in report.steps},
        diagnosis=report.diagnosis,
    )
    footer = asked_by(user, report.duration_ms / 1000)
    return message(checklist_text(progress), [*checklist_blocks(progress), footer])


def checklist_blocks(progress: TriageProgress) -> list[Block]:
    blocks: list[Block] = []
    if progress.diagnosis is not None:
        blocks += _diagnosis_blocks(progress.diagnosis)
    elif progress.failure is not None:
        blocks.append(section(f":x: The triage could not finish: {escape(progress.failure)}"))
    marks = [
        f"{STEP_MARK[_status(progress.results, s.id)]} {escape(s.title)}" for s in progress.planned
    ]
    heading = f"*Checklist for {code(progress.service)} over the last {escape(progress.window)}*"
    blocks.append(section("\n".join([heading, *marks])))
    for step in progress.planned:
        result = progress.results.get(step.id)
        if result is not None and result.status in ("warn", "crit"):
            blocks += _step_details(step.title, result)
    return fit_blocks(blocks)


def _words(code: str) -> str:
    return code.replace("_", " ")


def _status(results: dict[str, StepResult], step_id: str) -> Status | None:
    result = results.get(step_id)
    return result.status if result else None


def _diagnosis_blocks(diagnosis: Diagnosis) -> list[Block]:
    cause = escape(_words(diagnosis.cause))
    text = (
        f"*Most likely cause: {cause}* (confidence {diagnosis.confidence:.0%})\n"
        f"{escape(diagnosis.summary)}"
    )
    blocks: list[Block] = [section(text)]
    if diagnosis.secondary:
        blocks.append(section(_secondary_text(diagnosis.secondary)))
    if diagnosis.advice:
        blocks.append(section(f"*What to do next*\n{escape(diagnosis.advice)}"))
    blocks.append(DividerBlock())
    return blocks


def _secondary_text(secondary: Sequence[SecondaryCause]) -> str:
    lines = ["*Also found*"]
    for other in secondary:
        lines.append(
            f"• *{escape(_words(other.cause))}* ({_share(other.share)}): {escape(other.summary)}"
        )
    return "\n".join(lines)


def _share(share: float | None) -> str:
    if share is None:
        return "share of the symptom not measured"
    if share == 0:
        return "explains none of what users see"
    return f"{share:.0%} of what users see"


def _step_details(title: str, result: StepResult) -> list[Block]:
    worst = sorted(result.findings, key=_severity_rank, reverse=True)[:MAX_FINDINGS_PER_STEP]
    lines = [f"{STEP_MARK[result.status]} *{escape(title)}*"]
    lines += [f"• {escape(finding.summary)}" for finding in worst if finding.severity != "info"]
    blocks: list[Block] = [section("\n".join(lines))]
    advice = [finding.advice for finding in worst if finding.advice and finding.severity != "info"]
    if advice:
        blocks.append(context(escape(" ".join(dict.fromkeys(advice)))))
    return blocks


def _severity_rank(finding: Finding) -> int:
    return {"info": 0, "warn": 1, "crit": 2}[finding.severity]
