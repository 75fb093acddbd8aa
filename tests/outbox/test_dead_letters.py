"""Writes that can never be delivered go to the dead-letter list, named, counted and said in
their thread; nothing behind them waits forever."""

from __future__ import annotations

import json

from bot import telemetry
from bot.incidents.thread import CHECKLIST_LABEL, checklist_slot, root_slot
from bot.outbox.ops import Post
from bot.store import Store
from emulator.server import RunningEmulator
from tests.incidents.test_service import alert, batch
from tests.outbox.harness import CHANNEL, build_replica


def dead_lettered(reason: str) -> float:
    sample = telemetry.REGISTRY.get_sample_value(
        "bot_outbox_dead_lettered_total", {"reason": reason}
    )
    return sample or 0.0


async def test_a_root_refused_for_good_takes_its_followers_with_it_at_once(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    before = dead_lettered("slack_channel_not_found"), dead_lettered("thread_failed")
    replica = build_replica(any_store, quick_emulator, default_channel="C0DOESNOTEXIST")
    await replica.service.accept(batch(alert(job="billing")))
    (incident_id,) = await any_store.open_incident_ids()
    for number in range(3):
        await replica.service.note(incident_id, "U0ALICE", f"note {number}")
    await replica.drain()
    calls = quick_emulator.state.calls_to("chat.postMessage")
    assert [c.error for c in calls] == ["channel_not_found"], "one try, then no spinning"
    records = [json.loads(r) for r in await any_store.dead_letters(10)]
    assert [r["code"] for r in records] == ["thread_failed"] * 3 + ["slack_channel_not_found"]
    assert records[-1]["label"] == "the incident's root message"
    assert "channel_not_found" in records[0]["reason"]
    assert dead_lettered("slack_channel_not_found") == before[0] + 1
    assert dead_lettered("thread_failed") == before[1] + 3
    await replica.service.accept(batch(alert(job="billing", instance="b")))
    assert await any_store.peek_lane("C0DOESNOTEXIST", 10) == [], "a failed root queues no sync"
    stats = await any_store.outbox_stats()
    assert (stats.pending, stats.dead_letters) == (0, 4)


async def test_an_undecodable_entry_is_set_aside_and_the_lane_goes_on(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    await any_store.enqueue(CHANNEL, '{"kind": "post", "op_id": "x"}')
    await any_store.enqueue(CHANNEL, "not json at all")
    await replica.outbox.send(Post(op_id="fine", channel=CHANNEL, text="after the bad ones"))
    await replica.drain()
    assert [m.text for m in quick_emulator.state.channel_messages(CHANNEL)] == [
        "after the bad ones"
    ]
    records = [json.loads(r) for r in await any_store.dead_letters(10)]
    assert [r["code"] for r in records] == ["undecodable", "undecodable"]
    assert "channel" in records[1]["reason"]


async def test_a_refused_part_is_named_in_its_thread(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    await replica.service.accept(batch(alert()))
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    bad_blocks = [{"type": "no-such-block"}]
    await replica.outbox.show(  # the checklist's slot, as the thread fills it, refused by Slack
        checklist_slot(incident_id),
        incident.slack.channel,
        "checklist",
        bad_blocks,
        thread=root_slot(incident_id),
        label=CHECKLIST_LABEL,
    )
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    (note,) = quick_emulator.state.thread_replies(CHANNEL, root.ts)
    assert "The triage checklist could not be posted" in note.text
    assert "invalid_blocks" in note.text
    (record,) = [json.loads(r) for r in await any_store.dead_letters(10)]
    assert (record["code"], record["op_id"]) == (
        "slack_invalid_blocks",
        f"incident:{incident_id}:checklist",
    )
    assert root_slot(incident_id) != record["op_id"]
