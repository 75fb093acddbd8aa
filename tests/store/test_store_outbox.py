"""The outbox lanes: ownership, fenced reads, takeover, slots, requeue and dead letters."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.base import Store
from bot.store.outbox_contract import Fence, LaneLost
from tests.store.conftest import Backend

LANE = "C0INCIDENTS"


async def owned(store: Store, lane: str = LANE) -> str:
    token = await store.claim_lane(lane, 30)
    assert token is not None
    return token


async def test_lanes_with_work_are_listed_and_read_in_order(store: Store) -> None:
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(5)]
    await store.enqueue("C0OTHER", "x")
    assert len(set(ids)) == 5
    assert set(await store.lanes()) == {LANE, "C0OTHER"}
    token = await owned(store)
    first = await store.fetch_lane(LANE, token, "replica-a", limit=3)
    assert first is not None
    assert [(e.entry_id, e.item) for e in first] == list(
        zip(ids[:3], ["m0", "m1", "m2"], strict=True)
    )
    assert not any(e.taken_over for e in first)


async def test_only_one_process_owns_a_lane_and_only_the_owner_reads_it(store: Store) -> None:
    await store.enqueue(LANE, "m0")
    token = await owned(store)
    assert await store.claim_lane(LANE, 30) is None
    assert await store.fetch_lane(LANE, "not-the-token", "replica-b", limit=5) is None
    assert await store.renew_lane(LANE, "not-the-token", 30) is False
    assert await store.release_lane(LANE, "not-the-token") is False
    assert await store.release_lane(LANE, token) is True
    assert await store.fetch_lane(LANE, token, "replica-a", limit=5) is None
    assert await store.claim_lane(LANE, 30) is not None


async def test_unacknowledged_entries_come_back_first_until_acknowledged(store: Store) -> None:
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(3)]
    token = await owned(store)
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 2) or []] == ["m0", "m1"]
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 5) or []] == ["m0", "m1"]
    await store.ack_entry(LANE, ids[0])
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 5) or []] == ["m1"]
    await store.ack_entry(LANE, ids[1])
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 5) or []] == ["m2"]


async def test_a_new_owner_takes_over_what_the_dead_owner_read(backend: Backend) -> None:
    store = backend.store
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(4)]
    dead = await store.claim_lane(LANE, 0.2)
    assert dead is not None
    read = await store.fetch_lane(LANE, dead, "dead-replica", 2)
    assert [e.item for e in read or []] == ["m0", "m1"]
    await backend.elapse(0.25)
    token = await owned(store)
    taken = await store.fetch_lane(LANE, token, "replica-b", 10)
    assert [(e.entry_id, e.taken_over) for e in taken or []] == [(ids[0], True), (ids[1], True)]
    again = await store.fetch_lane(LANE, token, "replica-b", 10)
    assert [(e.item, e.taken_over) for e in again or []] == [("m0", False), ("m1", False)]
    for entry_id in ids[:2]:
        await store.ack_entry(LANE, entry_id)
    rest = await store.fetch_lane(LANE, token, "replica-b", 10)
    assert [e.item for e in rest or []] == ["m2", "m3"]
    assert await store.fetch_lane(LANE, dead, "dead-replica", 10) is None


async def test_an_empty_lane_retires_and_comes_back_with_new_work(store: Store) -> None:
    entry_id = await store.enqueue(LANE, "m0")
    token = await owned(store)
    assert await store.retire_lane(LANE, token) is False  # still has work
    await store.fetch_lane(LANE, token, "a", 5)
    await store.ack_entry(LANE, entry_id)
    assert await store.retire_lane("C0NOBODY", token) is False
    assert await store.retire_lane(LANE, token) is True
    assert await store.lanes() == []
    assert await store.claim_lane(LANE, 30) is not None  # the lease went with it
    await store.enqueue(LANE, "m1")
    assert await store.lanes() == [LANE]


async def test_fetching_a_retired_lane_finds_nothing(store: Store) -> None:
    token = await owned(store, "C0EMPTY")
    assert await store.fetch_lane("C0EMPTY", token, "a", 5) == []


async def test_requeue_moves_an_entry_to_the_tail_once(store: Store) -> None:
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(2)]
    token = await owned(store)
    await store.fetch_lane(LANE, token, "a", 1)
    new_id = await store.requeue_entry(LANE, ids[0], "m0", 1, 1234.5)
    assert new_id != ids[0]
    entries = []
    while batch := await store.fetch_lane(LANE, token, "a", 1):
        entries.append(batch[0])
        await store.ack_entry(LANE, batch[0].entry_id)
    assert [(e.item, e.requeues, e.not_before) for e in entries] == [
        ("m1", 0, 0.0),
        ("m0", 1, 1234.5),
    ]


async def test_dead_letters_leave_the_lane_and_are_listed_newest_first(store: Store) -> None:
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(3)]
    token = await owned(store)
    await store.fetch_lane(LANE, token, "a", 3)
    await store.dead_letter(LANE, ids[0], '{"reason": "first"}')
    await store.dead_letter(LANE, ids[2], '{"reason": "second"}')
    assert await store.dead_letters(10) == ['{"reason": "second"}', '{"reason": "first"}']
    assert await store.dead_letters(1) == ['{"reason": "second"}']
    stats = await store.outbox_stats()
    assert (stats.pending, stats.dead_letters) == (1, 2)
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 5) or []] == ["m1"]


async def test_stats_count_every_lane_and_age_the_oldest_entry(backend: Backend) -> None:
    store = backend.store
    empty = await store.outbox_stats()
    assert (empty.pending, empty.oldest_age_seconds, empty.dead_letters) == (0, 0.0, 0)
    await store.enqueue(LANE, "m0")
    await store.enqueue("C0OTHER", "m1")
    await backend.elapse(0.3)
    stats = await store.outbox_stats()
    assert stats.pending == 2
    assert 0.25 <= stats.oldest_age_seconds < 30


async def test_a_slot_queues_one_sync_however_often_it_changes(store: Store) -> None:
    assert await store.write_slot(LANE, "root:1", "v1", "sync root:1") is True
    assert await store.write_slot(LANE, "root:1", "v2", "sync root:1") is False
    assert await store.write_slot(LANE, "root:1", "v3", "sync root:1") is False
    slot = await store.read_slot("root:1")
    assert slot is not None
    assert (slot.content, slot.version, slot.synced, slot.failed) == ("v3", 3, 0, None)
    token = await owned(store)
    entries = await store.fetch_lane(LANE, token, "a", 10)
    assert [e.item for e in entries or []] == ["sync root:1"]
    assert await store.read_slot("never-written") is None


async def test_a_change_during_a_sync_queues_one_more_sync(store: Store) -> None:
    await store.write_slot(LANE, "root:1", "v1", "sync")
    token = await owned(store)
    (entry,) = await store.fetch_lane(LANE, token, "a", 10) or []
    assert await store.write_slot(LANE, "root:1", "v2", "sync") is False  # one is pending
    assert await store.finish_slot_sync(LANE, entry.entry_id, "root:1", 1, "sync") is False
    (again,) = await store.fetch_lane(LANE, token, "a", 10) or []
    assert again.entry_id != entry.entry_id
    assert await store.finish_slot_sync(LANE, again.entry_id, "root:1", 2, "sync") is True
    assert await store.fetch_lane(LANE, token, "a", 10) == []
    slot = await store.read_slot("root:1")
    assert slot is not None
    assert (slot.version, slot.synced) == (2, 2)
    assert await store.write_slot(LANE, "root:1", "v3", "sync") is True


async def test_a_failed_slot_queues_nothing_more(store: Store) -> None:
    await store.write_slot(LANE, "root:1", "v1", "sync")
    await store.fail_slot("root:1", "channel_not_found")
    assert await store.write_slot(LANE, "root:1", "v2", "sync") is False
    slot = await store.read_slot("root:1")
    assert slot is not None
    assert (slot.content, slot.failed) == ("v2", "channel_not_found")


async def test_op_records_keep_attempt_result_and_failure(store: Store) -> None:
    assert await store.op_record("note-1") == type(await store.op_record("x"))()
    fence = Fence(LANE, await owned(store))
    assert (
        await store.mark_attempt("note-1", "1700000000.5 replica-a", fence=fence, expected=None)
        is None
    )
    await store.mark_done("note-1", "1700000000.000100")
    await store.mark_failed("chart-1", "invalid_blocks")
    record = await store.op_record("note-1")
    assert (record.attempt, record.done, record.failed) == (
        "1700000000.5 replica-a",
        "1700000000.000100",
        None,
    )
    assert (await store.op_record("chart-1")).failed == "invalid_blocks"


@pytest.mark.parametrize("queued", [10, 2000])
async def test_a_long_lane_hands_out_its_head(store: Store, queued: int) -> None:
    for number in range(queued):
        await store.enqueue(LANE, f"m{number}")
    token = await owned(store)
    batch = await store.fetch_lane(LANE, token, "a", 5)
    assert [e.item for e in batch or []] == [f"m{n}" for n in range(5)]


async def test_concurrent_claimers_get_one_owner(store: Store) -> None:
    await store.enqueue(LANE, "m0")
    tokens = await asyncio.gather(*(store.claim_lane(LANE, 30) for _ in range(10)))
    assert len([t for t in tokens if t is not None]) == 1


async def test_peeking_shows_queued_entries_without_taking_them(store: Store) -> None:
    ids = [await store.enqueue(LANE, f"m{n}") for n in range(3)]
    token = await owned(store)
    await store.fetch_lane(LANE, token, "a", 1)
    peeked = await store.peek_lane(LANE, 10)
    assert [(e.entry_id, e.item) for e in peeked] == list(zip(ids, ["m0", "m1", "m2"], strict=True))
    assert [e.item for e in await store.peek_lane(LANE, 2)] == ["m0", "m1"]
    assert await store.peek_lane("C0NOBODY", 10) == []
    assert [e.item for e in await store.fetch_lane(LANE, token, "a", 10) or []] == ["m0"]


async def test_only_the_lane_owner_marks_an_attempt_and_never_over_a_rival(
    store: Store,
) -> None:
    token = await owned(store)
    fence = Fence(LANE, token)
    with pytest.raises(LaneLost):
        await store.mark_attempt("op", "1.0 a", fence=Fence(LANE, "stale-token"), expected=None)
    assert await store.mark_attempt("op", "1.0 a", fence=fence, expected=None) is None
    assert await store.mark_attempt("op", "2.0 a", fence=fence, expected=None) is None, "mine"
    assert await store.mark_attempt("op", "3.0 b", fence=fence, expected=None) == "2.0 a"
    assert (await store.op_record("op")).attempt == "2.0 a"
    assert await store.mark_attempt("op", "3.0 b", fence=fence, expected="2.0 a") is None
    assert (await store.op_record("op")).attempt == "3.0 b"
    assert await store.owns_lane(LANE, token)
    await store.release_lane(LANE, token)
    assert not await store.owns_lane(LANE, token)
    with pytest.raises(LaneLost):
        await store.mark_attempt("op", "4.0 b", fence=fence, expected="3.0 b")
