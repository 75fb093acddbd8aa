"""`/incident` through the real endpoint: the same actions and permissions as the buttons,
recorded in the timeline and mirrored in the incident's thread."""

from __future__ import annotations

import time

from tests.commands.conftest import (
    ADMIN,
    INCIDENTS,
    OWNER,
    STRANGER,
    Commands,
    text_of,
)
from tests.waiting import eventually


def thread_texts(commands: Commands) -> list[str]:
    state = commands.emulator.state
    roots = state.channel_messages(INCIDENTS)
    return [m.text for root in roots for m in state.thread_replies(INCIDENTS, root.ts)]


async def test_list_and_show_open_incidents(commands: Commands) -> None:
    first = await commands.open_incident_id("HighErrorRate")
    second = await commands.open_incident_id("LatencyP99OverSLO")
    reply = await commands.driver.slash_command("/incident", "list", user_id=STRANGER)
    assert reply.status == 200
    listing = text_of(await commands.next_response(STRANGER))
    assert first in listing
    assert second in listing
    assert "Open incidents (2)" in listing

    await commands.driver.slash_command("/incident", f"show {first}", user_id=STRANGER)
    shown = await commands.next_response(STRANGER, after=1)
    assert shown.body["response_type"] == "ephemeral"
    assert "HighErrorRate" in text_of(shown)
    assert "Timeline" in text_of(shown)
    assert "opened" in text_of(shown)
    actions = [b for b in shown.body["blocks"] if b["type"] == "actions"]
    assert {e["action_id"] for e in actions[0]["elements"]} >= {"incident_ack", "incident_resolve"}


async def test_unknown_incident_is_named(commands: Commands) -> None:
    await commands.driver.slash_command("/incident", "show 260101-abcdef")
    assert "No incident `260101-abcdef`" in text_of(await commands.next_response(OWNER))


async def test_ack_is_refused_to_non_owners_with_who_may(commands: Commands) -> None:
    incident_id = await commands.open_incident_id()
    await commands.driver.slash_command("/incident", f"ack {incident_id}", user_id=STRANGER)
    refusal = text_of(await commands.next_response(STRANGER))
    assert "S0ONCALL" in refusal
    assert ADMIN in refusal
    incident = await commands.bot.wiring.deps.incidents.repository.get(incident_id)
    assert incident is not None
    assert incident.status == "triggered"


async def test_ack_then_resolve_by_an_owner_are_recorded_and_mirrored(commands: Commands) -> None:
    incident_id = await commands.open_incident_id()
    await commands.driver.slash_command("/incident", f"ack {incident_id}", user_id=OWNER)
    assert "You acknowledged" in text_of(await commands.next_response(OWNER))
    await commands.driver.slash_command("/incident", f"ack {incident_id}", user_id=OWNER)
    assert "already acknowledged by <@U0ALICE>" in text_of(
        await commands.next_response(OWNER, after=1)
    )
    await commands.driver.slash_command("/incident", f"resolve {incident_id}", user_id=ADMIN)
    assert "You resolved" in text_of(await commands.next_response(ADMIN))

    repository = commands.bot.wiring.deps.incidents.repository
    timeline = [(e.who, e.what) for e in await repository.timeline(incident_id)]
    assert (OWNER, "acknowledged") in timeline
    assert (ADMIN, "resolved") in timeline
    await eventually(lambda: any("resolved this incident" in t for t in thread_texts(commands)))
    assert any(f"<@{OWNER}> acknowledged this incident." in t for t in thread_texts(commands))


async def test_anyone_may_note_and_the_note_cannot_ping(commands: Commands) -> None:
    incident_id = await commands.open_incident_id()
    text = f"note {incident_id} rolled back  v1.4.2 <!channel> & retried"
    await commands.driver.slash_command("/incident", text, user_id=STRANGER)
    assert "Noted" in text_of(await commands.next_response(STRANGER))
    timeline = await commands.bot.wiring.deps.incidents.repository.timeline(incident_id)
    assert timeline[-1].who == STRANGER
    # Kept as typed; escaped wherever it is shown.
    assert timeline[-1].what == "note: rolled back  v1.4.2 <!channel> & retried"
    await eventually(lambda: any("rolled back" in t for t in thread_texts(commands)))
    assert not any("<!channel>" in t for t in thread_texts(commands))
    assert any("v1.4.2 &lt;!channel&gt; &amp; retried" in t for t in thread_texts(commands))
    await commands.driver.slash_command("/incident", f"show {incident_id}", user_id=STRANGER)
    shown = text_of(await commands.next_response(STRANGER, after=1))
    assert "&lt;!channel&gt; &amp; retried" in shown
    assert "<!channel>" not in shown


async def test_buttons_follow_the_catalog_rules(commands: Commands) -> None:
    """`rerun` is everyone's by default, `resolve` the owners'."""
    incident_id = await commands.open_incident_id()
    await eventually(lambda: bool(commands.emulator.state.channel_messages(INCIDENTS)))
    root = commands.emulator.state.channel_messages(INCIDENTS)[0]
    click = commands.driver.click_button
    await click("incident_resolve", incident_id, message_ts=root.ts, user_id=STRANGER)
    assert "S0ONCALL" in text_of(await commands.next_response(STRANGER))
    await click("incident_rerun_triage", incident_id, message_ts=root.ts, user_id=STRANGER)
    repository = commands.bot.wiring.deps.incidents.repository

    async def reran() -> bool:
        timeline = await repository.timeline(incident_id)
        return any(e.who == STRANGER and "fresh triage" in e.what for e in timeline)

    await eventually(reran)
    incident = await repository.get(incident_id)
    assert incident is not None
    assert incident.status == "triggered"


async def test_acknowledgement_does_not_wait_for_slack(commands: Commands) -> None:
    """The permission check reads the owners' group from Slack; the ack must not wait for it."""
    incident_id = await commands.open_incident_id()
    commands.emulator.state.faults.delay_next("usergroups.users.list", seconds=2.0)
    started = time.monotonic()
    reply = await commands.driver.slash_command("/incident", f"ack {incident_id}", user_id=OWNER)
    assert reply.status == 200
    assert time.monotonic() - started < 1.0
    assert "You acknowledged" in text_of(await commands.next_response(OWNER))
