"""Incident threads through the outbox: one root edited in place, notes in order, digests."""

from __future__ import annotations

from bot.outbox.ops import Post, Upload
from bot.store import Store
from emulator.server import RunningEmulator
from tests.incidents.test_service import alert, batch
from tests.outbox.harness import CHANNEL, build_replica

PNG = "iVBORw0KGgo="  # the PNG signature, base64


async def test_incident_gets_one_root_with_buttons_and_edits_in_place(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    await replica.service.accept(batch(alert(instance="a")))
    await replica.drain()
    await replica.service.accept(batch(alert(instance="b")))
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "HighLatency" in root.text
    assert len(root.edits) == 1
    assert "2 alert(s) firing" in str(root.blocks)
    actions = [b for b in root.blocks or [] if b["type"] == "actions"]
    assert {e["action_id"] for e in actions[0]["elements"]} == {
        "incident_ack",
        "incident_rerun_triage",
        "incident_profile_now",
        "incident_silence_1h",
        "incident_resolve",
    }
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    assert incident.slack.root_ts == root.ts, "the root's ts comes back to the incident"


async def test_a_burst_of_changes_costs_one_sync_and_shows_the_last(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    for number in range(30):
        await replica.service.accept(batch(alert(instance=f"pod-{number}")))
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "30 alert(s) firing" in str(root.blocks)
    writes = quick_emulator.state.calls_to("chat.postMessage") + quick_emulator.state.calls_to(
        "chat.update"
    )
    assert len(writes) <= 3, [c.method for c in writes]


async def test_resolution_edits_root_and_adds_a_thread_line(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    await replica.service.accept(batch(alert()))
    await replica.drain()
    await replica.service.accept(batch(alert(status="resolved")))
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "[resolved]" in root.text
    replies = quick_emulator.state.thread_replies(CHANNEL, root.ts)
    assert [r.text for r in replies] == [
        "Every alert of this incident has cleared; marked resolved."
    ]
    assert not any(b["type"] == "actions" for b in root.blocks or [])


async def test_notes_keep_their_order_in_the_thread(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    await replica.service.accept(batch(alert()))
    (incident_id,) = await any_store.open_incident_ids()
    for number in range(8):
        await replica.service.note(incident_id, "U0ALICE", f"step {number}")
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    texts = [r.text for r in quick_emulator.state.thread_replies(CHANNEL, root.ts)]
    assert texts == [f"Note from <@U0ALICE>: step {number}" for number in range(8)]


async def test_slack_errors_are_retried_until_the_post_lands(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    quick_emulator.state.faults.fail_next("chat.postMessage", count=3, status=500)
    replica = build_replica(any_store, quick_emulator)
    await replica.service.accept(batch(alert()))
    await replica.drain()
    assert len(quick_emulator.state.channel_messages(CHANNEL)) == 1
    statuses = [c.status for c in quick_emulator.state.calls_to("chat.postMessage")]
    assert statuses == [500, 500, 500, 200]


async def test_channel_messages_post_once_and_thread_under_their_parent(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    reply = Post(op_id="w48:svc", channel=CHANNEL, text="per service", thread="w48")
    chart = Upload(
        op_id="w48:chart",
        channel=CHANNEL,
        thread="w48",
        filename="svc.png",
        title="svc",
        png_base64=PNG,
    )
    root = Post(op_id="w48", channel=CHANNEL, text="weekly digest")
    # The reply is queued before its parent exists, and everything twice.
    await replica.outbox.send(reply, chart, root, root, reply, chart)
    await replica.drain()
    (posted,) = quick_emulator.state.channel_messages(CHANNEL)
    assert posted.text == "weekly digest"
    replies = quick_emulator.state.thread_replies(CHANNEL, posted.ts)
    assert [r.text for r in replies if not r.files] == ["per service"]
    assert [len(r.files) for r in replies if r.files] == [1]
