"""Block Kit for `/triage SERVICE db`: the database step alone, every finding and what to do.

Statement texts and names come from the service's database: they are escaped for Slack, so a
`<!channel>` inside a query can neither ping nor link.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock

from bot.models import Finding, StepResult, TriageReport
from bot.slack.render.blocks import Message, asked_by, context, fit_blocks, message, section
from bot.slack.render.text import code, escape
from bot.slack.render.triage import STEP_MARK

_QUIET = {"not_measured"}
_MARK = {"crit": ":red_circle:", "warn": ":warning:", "info": "•"}


def database_text(report: TriageReport) -> str:
    cause = report.diagnosis.cause.replace("_", " ")
    return f"Database evidence for {escape(report.service)}: {cause}"


def database_message(report: TriageReport, user: str) -> Message:
    """`/triage SERVICE db`'s answer in the channel, with who asked for it."""
    footer = asked_by(user, report.duration_ms / 1000)
    return message(database_text(report), [*database_blocks(report), footer])


def database_blocks(report: TriageReport) -> list[Block]:
    heading = (
        f"*Database evidence for {code(report.service)} over the last {escape(report.window)}*"
    )
    blocks: list[Block] = [section(heading)]
    for step in report.steps:
        blocks += _step(step)
    cause = report.diagnosis.cause.replace("_", " ")
    blocks.append(DividerBlock())
    blocks.append(
        context(
            f"From the database step alone: *{cause}* ({report.diagnosis.confidence:.0%}). "
            "`/triage SERVICE` weighs it against the event loop, memory and downstream calls."
        )
    )
    return fit_blocks(blocks)


def _step(step: StepResult) -> list[Block]:
    blocks: list[Block] = [section(f"{STEP_MARK[step.status]} *{escape(step.title)}*")]
    for finding in step.findings:
        if finding.code not in _QUIET:
            blocks += _finding(finding)
    return blocks


def _finding(finding: Finding) -> list[Block]:
    blocks: list[Block] = [section(f"{_MARK[finding.severity]} {escape(finding.summary)}")]
    if finding.advice and finding.severity != "info":
        blocks.append(context(escape(finding.advice)))
    return blocks
