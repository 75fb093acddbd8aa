"""Lanes across replicas: one owner per channel, Slack's pace for all, takeover of a dead
owner's lane in order, 429s that pause the lane for everyone."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.outbox.ops import Post
from bot.outbox.pace import PaceRules
from bot.outbox.writes import Written
from bot.store import Store
from emulator.limits import Limits
from emulator.server import RunningEmulator
from tests.outbox.harness import CHANNEL, build_replica
from tests.waiting import eventually

OTHER = "C0OTHER"
SLACK_PACE = PaceRules()


def posts(channel: str, count: int, prefix: str = "m") -> list[Post]:
    return [
        Post(op_id=f"{prefix}-{channel}-{n}", channel=channel, text=f"{prefix}{n}")
        for n in range(count)
    ]


async def test_two_replicas_share_slacks_pace_per_channel(
    any_store: Store, emulator: RunningEmulator
) -> None:
    emulator.state.add_channel(OTHER, "other")
    replicas = [build_replica(any_store, emulator, pace=SLACK_PACE) for _ in range(2)]
    await replicas[0].outbox.send(*posts(CHANNEL, 5), *posts(OTHER, 5))
    started = time.monotonic()
    await asyncio.gather(*(r.drain(within=30) for r in replicas))
    elapsed = time.monotonic() - started
    for channel in (CHANNEL, OTHER):
        calls = emulator.state.calls_to("chat.postMessage", channel=channel)
        assert [c.status for c in calls] == [200] * 5, "no 429: the pace is shared"
        texts = [m.text for m in emulator.state.channel_messages(channel)]
        assert texts == [f"m{n}" for n in range(5)], "posted once each, in order"
        assert emulator.state.most_calls_within("chat.postMessage", 1.0, channel=channel) <= 3
        assert calls[-1].at - calls[0].at >= 2.9, "one a second after a burst of two"
    assert elapsed < 6.0, "the two channels were posted side by side"


async def test_a_dead_owners_lane_is_taken_over_in_order(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    dead = build_replica(any_store, quick_emulator, lease_seconds=0.5)
    await dead.outbox.send(*posts(CHANNEL, 6))
    token = await any_store.claim_lane(CHANNEL, 0.5)
    assert token is not None
    read = await any_store.fetch_lane(CHANNEL, token, dead.worker.consumer, 3)
    assert read is not None
    assert len(read) == 3  # read, never acknowledged: the replica died here
    survivor = build_replica(any_store, quick_emulator)
    started = time.monotonic()
    await survivor.drain()
    assert time.monotonic() - started < 3.0, "taken over within about a lease"
    texts = [m.text for m in quick_emulator.state.channel_messages(CHANNEL)]
    assert texts == [f"m{n}" for n in range(6)]


async def test_only_the_lane_owner_writes_to_its_channel(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    replicas = [build_replica(any_store, quick_emulator) for _ in range(3)]
    writing: list[tuple[str, float, float]] = []
    for replica in replicas:
        original = replica.writes.post_once

        async def recorded(
            *args: Any,
            _original: Callable[..., Awaitable[Written]] = original,
            _name: str = replica.worker.consumer,
            **kwargs: Any,
        ) -> Written:
            started = time.monotonic()
            written = await _original(*args, **kwargs)
            writing.append((_name, started, time.monotonic()))
            return written

        replica.writes.post_once = recorded  # type: ignore[method-assign]
    tasks = [asyncio.create_task(r.worker.run()) for r in replicas]
    try:
        for batch_number in range(4):
            await replicas[batch_number % 3].outbox.send(*posts(CHANNEL, 3, f"b{batch_number}-"))
            await asyncio.sleep(0.2)
        await eventually(lambda: len(quick_emulator.state.channel_messages(CHANNEL)) == 12, 20)
    finally:
        await asyncio.gather(*(r.worker.stop() for r in replicas))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    writing.sort(key=lambda w: w[1])
    for (who, _start, end), (other, start, _end) in itertools.pairwise(writing):
        assert who == other or start >= end, "two replicas wrote to one channel at once"
    texts = [m.text for m in quick_emulator.state.channel_messages(CHANNEL)]
    assert texts == [f"b{b}-{n}" for b in range(4) for n in range(3)]


async def test_a_429_pauses_the_lane_for_its_retry_after(
    any_store: Store, emulator: RunningEmulator
) -> None:
    emulator.state.configure_limits(Limits(post_message_burst=1))
    too_fast = PaceRules(post_interval=0.05, post_burst=3)
    replica = build_replica(any_store, emulator, pace=too_fast)
    await replica.outbox.send(*posts(CHANNEL, 3))
    await replica.drain()
    calls = emulator.state.calls_to("chat.postMessage", channel=CHANNEL)
    limited = [c for c in calls if c.status == 429]
    assert limited, "the pace was too fast for Slack"
    accepted = [c.at for c in calls if c.status == 200]
    assert len(accepted) == 3
    gaps = [b - a for a, b in itertools.pairwise(accepted)]
    assert min(gaps) >= 0.9, "after a 429 the lane waited Retry-After"
    texts = [m.text for m in emulator.state.channel_messages(CHANNEL)]
    assert texts == ["m0", "m1", "m2"]


async def test_stopping_a_worker_releases_its_lanes_at_once(
    any_store: Store, quick_emulator: RunningEmulator
) -> None:
    leaving = build_replica(any_store, quick_emulator, lease_seconds=30, linger_seconds=30)
    await leaving.outbox.send(*posts(CHANNEL, 2))
    await leaving.worker.start_lanes()
    await eventually(lambda: len(quick_emulator.state.channel_messages(CHANNEL)) == 2, 5)
    assert leaving.worker.owned_lanes == [CHANNEL]
    await leaving.worker.stop()
    await any_store.enqueue(CHANNEL, posts(CHANNEL, 1, prefix="late")[0].model_dump_json())
    survivor = build_replica(any_store, quick_emulator, lease_seconds=30)
    await survivor.drain(within=3)  # a 30 s lease left behind would hold it up
    texts = [m.text for m in quick_emulator.state.channel_messages(CHANNEL)]
    assert texts == ["m0", "m1", "late0"]
