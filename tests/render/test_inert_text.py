"""Arbitrary outside text through every renderer never becomes a ping, a mention or a link.

Every string an alert, a metric label, an APM answer, a stored note or a command argument can
set is drawn by hypothesis (plain text mixed with Slack's control sequences); whatever the
renderers make of it, only the bot's own sequences may appear in a `mrkdwn` text or a `text`
fallback: mentions of the users taking part, dates, and http(s) links labelled with their host.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.figures import Incidents, Missing, Ranked, ServiceFigures
from bot.incidents.model import Incident, SlackThread, TimelineEntry
from bot.models import (
    Diagnosis,
    Finding,
    PlannedStep,
    SecondaryCause,
    StepResult,
    TriageProgress,
    TriageReport,
)
from bot.slack.commands.common import incident_id, unknown_subcommand
from bot.slack.render import notes
from bot.slack.render.blocks import to_payload
from bot.slack.render.database import database_blocks, database_text
from bot.slack.render.digest import ChannelDigest, digest_ops
from bot.slack.render.health import Line, signal_message
from bot.slack.render.home import HealthMark, home_view
from bot.slack.render.incident import root_blocks, root_text
from bot.slack.render.incident_list import detail_blocks, list_blocks, list_text
from bot.slack.render.text import escape, link
from bot.slack.render.triage import checklist_blocks, checklist_text
from tests.digest.test_render import PERIOD, busy_service
from tests.slack_safety import unsafe_sequences

ALICE, BOB = "U0ALICE", "W0BOB12"
USERS = {ALICE, BOB}
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0ALICE>",
    "<@U999EVIL>",
    "<#C0GENERAL>",
    "<!subteam^S0ONCALL>",
    "<https://evil.example|Open runbook>",
    "<javascript:alert(1)|x>",
    "&lt;!here&gt;",
    "&",
    "<",
    ">",
    "|",
    "`",
    "*",
    "\n",
]
URLS = [
    "javascript:alert(1)",
    "https://evil.example|Open runbook",
    "https://ok.example/d/1?a=1&b=<2>",
    "http://user:secret@grafana.example:3000/d/x",
    "data:text/html,<script>",
    "http://[::1]:9090/graph",
    "https://exa mple.com/",
]

hostile_text = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)), max_size=6).map(
    "".join
)
hostile_url = st.one_of(st.sampled_from(URLS), hostile_text, st.text(max_size=40))
user_id = st.sampled_from([ALICE, BOB])


def assert_inert(*rendered: Any) -> None:
    unsafe = unsafe_sequences(list(rendered), users=USERS)
    assert unsafe == [], unsafe


def an_incident(text: str, url: str, who: str | None) -> Incident:
    return Incident(
        id="261102-a1b2c3",
        group_key=f"{text}/{text}",
        service=text or None,
        alertname=text,
        severity=text,
        summary=text,
        opened_at=NOW,
        updated_at=NOW,
        acknowledged_by=who,
        resolved_by=who,
        links={"generator": url, "runbook": url, text: url},
        slack=SlackThread(channel="C0INCIDENTS"),
        diagnosis=text,
    )


def a_progress(text: str, finished: bool) -> TriageProgress:
    finding = Finding(code="x", severity="crit", summary=text, advice=text)
    step = StepResult(id="apm", title=text, status="crit", findings=(finding,))
    other = SecondaryCause(cause="heap_leak", share=0.0, summary=text)
    diagnosis = Diagnosis(
        cause="slow_downstream", confidence=0.5, summary=text, advice=text, secondary=(other,)
    )
    return TriageProgress(
        service=text,
        window=text,
        planned=[PlannedStep(id="apm", title=text)],
        results={"apm": step},
        diagnosis=diagnosis if finished else None,
        failure=None if finished else text,
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text, url=hostile_url, who=st.one_of(st.none(), user_id))
def test_incident_root_home_and_lists(text: str, url: str, who: str | None) -> None:
    incident = an_incident(text, url, who)
    timeline = [TimelineEntry(at=NOW, who=who or "alerts", what=text)]
    marks = {text: HealthMark("warn", text, NOW.timestamp())}
    assert_inert(
        root_text(incident),
        to_payload(root_blocks(incident)),
        home_view([incident], [text, "checkout"], marks, NOW, notice=escape(text)),
        list_text([incident], NOW),
        to_payload(list_blocks([incident], NOW)),
        to_payload(detail_blocks(incident, timeline)),
    )


@settings(max_examples=150)
@given(text=hostile_text, who=user_id, finished=st.booleans())
def test_checklist_diagnosis_notes_and_signals(text: str, who: str, finished: bool) -> None:
    progress = a_progress(text, finished)
    text_and_blocks = signal_message(text, [Line(text, text, "crit"), Line(text, text)], text)
    assert_inert(
        checklist_text(progress),
        to_payload(checklist_blocks(progress)),
        notes.person_acted(who, text),
        notes.person_noted(who, text),
        notes.person_silenced(who, text, 1),
        list(text_and_blocks),
    )


@settings(max_examples=100)
@given(text=hostile_text)
def test_database_evidence_alone(text: str) -> None:
    finding = Finding(code="db_lock_waits", severity="crit", summary=text, advice=text)
    step = StepResult(id="database", title=text, status="crit", findings=(finding,))
    diagnosis = Diagnosis(cause="lock_contention", confidence=0.9, summary=text, advice=text)
    report = TriageReport(
        service=text,
        window=text,
        started_at=NOW,
        duration_ms=5,
        steps=(step,),
        diagnosis=diagnosis,
    )
    assert_inert(database_text(report), to_payload(database_blocks(report)))


@settings(max_examples=100)
@given(text=hostile_text, threaded=st.booleans())
def test_weekly_digest(text: str, threaded: bool) -> None:
    base = busy_service(text or "x")
    figures = ServiceFigures(
        **{
            **vars(base),
            "endpoints": Ranked(((text, 1.0),)),
            "downstreams": Ranked(((text, 0.5),)),
            "incidents": Incidents(2, 60.0, 600.0, ((text, 2),)),
            "gc_ratio": Missing("gc", text),
        }
    )
    services = (figures,) * (5 if threaded else 1)
    digest = ChannelDigest(PERIOD, services, charts={})
    ops = [op.model_dump() for op in digest_ops(digest)]
    assert_inert(ops)


@settings(max_examples=100)
@given(word=hostile_text)
def test_command_errors_that_echo_what_was_typed(word: str) -> None:
    for problem in (
        unknown_subcommand(word, ("list", "show"), "usage"),
        _invalid_incident_id(word),
    ):
        assert_inert(str(problem))


def _invalid_incident_id(text: str) -> Exception:
    try:
        incident_id(text, "usage")
    except Exception as problem:
        return problem
    return ValueError("a valid id")


@given(url=hostile_url)
def test_links_are_http_only_and_labelled_with_their_host(url: str) -> None:
    shown = link(url)
    if shown is not None:
        assert shown.startswith(("<http://", "<https://"))
        assert unsafe_sequences(shown) == []


def test_the_checker_catches_what_it_must() -> None:
    """The property tests above can fail: every hostile sequence is reported when raw."""
    for sequence in HOSTILE[:9]:
        flagged = unsafe_sequences({"text": f"x {sequence} y"}, users=USERS)
        assert flagged == [sequence] or sequence == "<@U0ALICE>", sequence
    assert unsafe_sequences({"type": "plain_text", "text": "<!channel>"}) == []
    assert unsafe_sequences("<https://ok.example/a|ok.example>") == []
    assert unsafe_sequences("<https://ok.example/a|other.example>") != []
