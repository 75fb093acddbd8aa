"""`/triage SERVICE [WINDOW] [db]`: run the Node.js checklist for a service now.

The command is acknowledged at once; the playbook then runs as a tracked background task and
its report (checklist, diagnosis, then charts in the thread) is posted in the channel through
the outbox, so a crash or a Slack hiccup neither loses nor doubles it.
"""

from __future__ import annotations

import base64
import time
import uuid

from bot.catalog import Service
from bot.charts import MAX_CHARTS, chart_specs, render_png_async
from bot.models import STATUS_RANK, Status, TriageReport
from bot.outbox.ops import Post, Upload
from bot.slack.commands import profile
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.common import (
    Invalid,
    Invocation,
    authorized,
    checked_window,
    known_service,
    tell,
)
from bot.slack.deps import Deps
from bot.slack.render.database import database_message
from bot.slack.render.text import code, escape
from bot.slack.render.triage import report_message
from bot.sources.base import MetricsUnavailable
from bot.telemetry import TRIAGE_DURATION
from bot.triage.runner import DATABASE_STEP
from bot.triage.window import DEFAULT_WINDOW

USAGE = "\n".join(
    [
        "*`/triage SERVICE [WINDOW] [db]`* walks the Node.js checklist for one service",
        "and posts what it finds in this channel.",
        "It looks, in order, at the APM (slowest endpoint and dependency), event-loop lag,",
        "the database, downstream calls, then memory and garbage collection.",
        "",
        "• `SERVICE`: a name from the service catalog, e.g. `checkout`",
        f"• `WINDOW`: how far back to look, from `1m` to `30d` (default `{DEFAULT_WINDOW}`)",
        "• `db`: only the database step, with all of its evidence: heaviest statements,",
        "  missing indexes, lock waits and sessions left inside a transaction",
        "• `/triage SERVICE profile [cpu|heap]`: a profile of the busiest instance, now",
        "",
        "Examples: `/triage checkout`, `/triage checkout 30m`, `/triage checkout db`",
    ]
)


def accept(deps: Deps, call: Invocation) -> Accepted:
    if profile.wants_profile(call):
        return profile.accept(deps, call)
    service, window, database_only = parse(deps, call)
    what = "Database evidence" if database_only else "Triage"
    return Accepted(
        f":hourglass_flowing_sand: {what} of {code(service.name)} over the last "
        f"{escape(window)}: running… the report will appear in this channel.",
        f"The triage of {service.name}",
        lambda: run_for_channel(deps, call, service, window, database_only=database_only),
    )


def parse(deps: Deps, call: Invocation) -> tuple[Service, str, bool]:
    """The service, the window and whether only the database step was asked for (`db`)."""
    rest = [word for word in call.words[1:] if word.lower() != "db"]
    database_only = len(rest) < len(call.words) - 1
    if len(rest) > 1 or len(call.words) - 1 - len(rest) > 1:
        raise Invalid(f"`/triage` takes a service, a window and `db` at most.\n\n{USAGE}")
    service = known_service(deps, call.words[0], USAGE)
    window = checked_window(rest[0], USAGE) if rest else DEFAULT_WINDOW
    return service, window, database_only


async def run_for_channel(
    deps: Deps, call: Invocation, service: Service, window: str, *, database_only: bool = False
) -> None:
    if not await authorized(deps, call, "triage", service.owners):
        return
    verdict = await deps.rate_limiter.take("triage", call.user)
    if not verdict.allowed:
        limit = deps.rate_limiter.limit_of("triage")
        allowance = f"{limit.runs} triages a minute" if limit else "a few triages"
        await tell(
            call.respond,
            f":stopwatch: You can start {allowance}; try again in {verdict.retry_after_seconds} s.",
        )
        return
    steps = {DATABASE_STEP} if database_only else None
    started = time.monotonic()
    try:
        report = await deps.runner.run(service.name, window, steps=steps, profile=True)
    except MetricsUnavailable as error:
        await tell(
            call.respond,
            f":x: The triage of {code(service.name)} could not run: {escape(str(error))}",
        )
        return
    finally:
        TRIAGE_DURATION.labels(trigger="command").observe(time.monotonic() - started)
    if database_only:
        await deps.outbox.send(database_op(call, report))
        return
    await deps.home.marks.record(service.name, worst_status(report), _mark_note(report))
    await deps.outbox.send(*await report_ops(call, report))


def database_op(call: Invocation, report: TriageReport) -> Post:
    """The database evidence as one channel message, its key unique to this run."""
    key = f"triage-db:{call.channel}:{report.service}:{uuid.uuid4().hex[:12]}"
    evidence = database_message(report, call.user)
    return Post(
        op_id=key,
        channel=call.channel,
        text=evidence.text,
        blocks=evidence.blocks,
        label="the database evidence",
    )


async def report_ops(call: Invocation, report: TriageReport) -> list[Post | Upload]:
    """The channel message, then each chart in its thread; keys unique to this run."""
    key = f"triage:{call.channel}:{report.service}:{uuid.uuid4().hex[:12]}"
    rendered = report_message(report, call.user)
    ops: list[Post | Upload] = [
        Post(
            op_id=key,
            channel=call.channel,
            text=rendered.text,
            blocks=rendered.blocks,
            label="the triage report",
        )
    ]
    for index, spec in enumerate(chart_specs(report)[:MAX_CHARTS]):
        png = await render_png_async(spec)
        ops.append(
            Upload(
                op_id=f"{key}:chart-{index + 1}",
                channel=call.channel,
                thread=key,
                filename=f"{report.service}-triage-{index + 1}.png",
                title=spec.title,
                png_base64=base64.b64encode(png).decode("ascii"),
                label="a chart",
            )
        )
    return ops + await profile.profile_ops(f"{key}:profile", call.channel, key, report.profile)


def worst_status(report: TriageReport) -> Status:
    statuses = [step.status for step in report.steps] or ["unknown"]
    return max(statuses, key=lambda status: STATUS_RANK[status])


def _mark_note(report: TriageReport) -> str:
    cause = report.diagnosis.cause.replace("_", " ")
    return f"triage over {report.window}: {cause}"


COMMAND = SlashCommand("/triage", USAGE, accept)
