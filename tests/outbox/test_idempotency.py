"""Every Slack write is safe to repeat: a crash after Slack's answer, an answer lost on the
wire, or another replica's write still in flight never yields a second message or file."""

from __future__ import annotations

import collections
import time

import pytest

from bot.outbox.ops import EVENT_TYPE, Post, Upload
from bot.store import Store
from bot.store.outbox_contract import Fence
from emulator.records import Message
from emulator.server import RunningEmulator
from tests.incidents.test_service import alert, batch
from tests.outbox.harness import CHANNEL, build_replica
from tests.outbox.test_delivery import PNG
from tests.waiting import eventually

PRIVATE = "G0PRIVATE"


def op_ids(messages: list[Message]) -> list[str]:
    return [
        str((m.metadata or {}).get("event_payload", {}).get("op"))
        for m in messages
        if (m.metadata or {}).get("event_type") == EVENT_TYPE
    ]


def everything(emulator: RunningEmulator, channel: str) -> list[Message]:
    return list(emulator.state.messages.get(channel, []))


async def test_a_crash_after_slack_accepted_the_root_never_posts_a_second_one(
    any_store: Store, quick_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    replica = build_replica(any_store, quick_emulator)
    real_mark_done = any_store.mark_done
    crashes: list[str] = []

    async def crash_once(op_id: str, result: str) -> None:
        if not crashes:
            crashes.append(op_id)
            raise RuntimeError("process killed after Slack accepted the post")
        await real_mark_done(op_id, result)

    monkeypatch.setattr(any_store, "mark_done", crash_once)
    await replica.service.accept(batch(alert()))
    await replica.service.accept(batch(alert(instance="b")))
    await replica.drain()
    assert crashes
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "2 alert(s) firing" in str(root.blocks)
    assert len(quick_emulator.state.calls_to("conversations.history")) == 1


@pytest.mark.parametrize("channel", [CHANNEL, PRIVATE])
async def test_lost_replies_never_double_a_root_note_or_chart(
    any_store: Store, quick_emulator: RunningEmulator, channel: str
) -> None:
    quick_emulator.state.add_channel(PRIVATE, "private-incidents", is_private=True)
    quick_emulator.state.scopes = frozenset({"chat:write", "channels:history", "groups:history"})
    quick_emulator.state.lost_replies.configure(share=0.5, seed=3)
    replica = build_replica(any_store, quick_emulator, default_channel=channel)
    await replica.service.accept(batch(alert(job="billing")))  # maps to the default channel
    (incident_id,) = await any_store.open_incident_ids()
    incident = await replica.repository.get(incident_id)
    assert incident is not None
    for number in range(6):
        await replica.thread.note(incident, f"note {number}", once_as=str(number))
    await replica.thread.attach_chart(incident, "run:1", "chart.png", "p99", b"\x89PNG")
    await replica.drain(within=60)
    assert quick_emulator.state.lost_replies.lost, "some replies were lost on the way"
    messages = everything(quick_emulator, channel)
    counts = collections.Counter(op_ids(messages))
    assert counts
    assert max(counts.values()) == 1, counts
    roots = quick_emulator.state.channel_messages(channel)
    assert len(roots) == 1
    replies = quick_emulator.state.thread_replies(channel, roots[0].ts)
    assert [r.text for r in replies if not r.files] == [f"note {n}" for n in range(6)]
    assert len([r for r in replies if r.files]) == 1


async def test_a_private_channel_without_groups_history_is_a_named_dead_letter(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    quick_emulator.state.add_channel(PRIVATE, "private-incidents", is_private=True)
    quick_emulator.state.scopes = frozenset({"chat:write", "channels:history"})
    quick_emulator.state.lost_replies.configure(share=1.0, methods=["chat.postMessage"])
    replica = build_replica(any_store, quick_emulator)
    await replica.outbox.send(Post(op_id="p-1", channel=PRIVATE, text="hello"))
    await replica.drain()
    (record,) = await any_store.dead_letters(10)
    assert "groups:history" in record
    assert len(everything(quick_emulator, PRIVATE)) == 1


async def test_another_replicas_write_in_flight_is_awaited_before_looking_it_up(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator, request_timeout=1.0)
    dead = await any_store.claim_lane(CHANNEL, 0.2)
    assert dead is not None
    marker = f"{time.time():.3f} replica-that-died"
    assert (
        await any_store.mark_attempt("p-1", marker, fence=Fence(CHANNEL, dead), expected=None)
        is None
    )
    started = time.monotonic()
    await replica.outbox.send(Post(op_id="p-1", channel=CHANNEL, text="hello"))
    await replica.drain()
    assert time.monotonic() - started >= 1.5, "it waited out the other write's timeout"
    assert [m.text for m in everything(quick_emulator, CHANNEL)] == ["hello"]
    assert len(quick_emulator.state.calls_to("conversations.history")) == 1


async def test_an_upload_whose_answer_was_lost_is_found_by_its_name(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    quick_emulator.state.lost_replies.configure(share=1.0, methods=["files.completeUploadExternal"])
    replica = build_replica(any_store, quick_emulator)
    parent = Post(op_id="parent", channel=CHANNEL, text="report")
    chart = Upload(
        op_id="chart-1",
        channel=CHANNEL,
        thread="parent",
        filename="c.png",
        title="c",
        png_base64=PNG,
    )
    await replica.outbox.send(parent, chart)
    await replica.drain()
    shares = [f for f in quick_emulator.state.files.values() if f.completed]
    assert len(shares) == 1
    assert shares[0].filename == chart.unique_filename
    assert (await any_store.op_record("chart-1")).done == shares[0].id


async def test_a_root_found_posted_by_a_lost_attempt_is_brought_up_to_date(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replica = build_replica(any_store, quick_emulator)
    quick_emulator.state.lost_replies.configure(share=1.0, methods=["chat.postMessage"])
    await replica.service.accept(batch(alert(instance="a")))
    await replica.worker.start_lanes()
    await eventually(lambda: quick_emulator.state.channel_messages(CHANNEL), 10, every=0.01)
    # Posted, answer lost; the lane backs off before looking it up. Meanwhile it changes:
    await replica.service.accept(batch(alert(instance="b")))
    quick_emulator.state.lost_replies.configure(share=0.0)
    await replica.drain()
    (root,) = quick_emulator.state.channel_messages(CHANNEL)
    assert "1 alert(s) firing" not in str(root.blocks)
    assert "2 alert(s) firing" in str(root.blocks)
    assert len(quick_emulator.state.calls_to("conversations.history")) == 1
