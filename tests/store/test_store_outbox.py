"""The outbox: FIFO leasing, acknowledgement, and resuming a crashed worker's entries."""

from __future__ import annotations

import asyncio

from bot.store.base import Store
from tests.store.conftest import Backend


async def push_all(store: Store, items: list[str]) -> list[str]:
    return [await store.outbox_push(item) for item in items]


async def test_entries_are_claimed_in_the_order_they_were_pushed(store: Store) -> None:
    items = [f"message-{number}" for number in range(5)]
    ids = await push_all(store, items)
    assert len(set(ids)) == 5
    first = await store.outbox_claim("worker-a", 30, limit=3)
    rest = await store.outbox_claim("worker-b", 30, limit=10)
    assert first == list(zip(ids[:3], items[:3], strict=True))
    assert rest == list(zip(ids[3:], items[3:], strict=True))


async def test_leased_entries_are_not_handed_out_twice(store: Store) -> None:
    await push_all(store, ["a", "b"])
    assert len(await store.outbox_claim("worker-a", 30, limit=10)) == 2
    assert await store.outbox_claim("worker-b", 30, limit=10) == []
    assert await store.outbox_claim("worker-a", 30, limit=10) == []


async def test_acknowledged_entries_leave_the_outbox(backend: Backend) -> None:
    store = backend.store
    ids = await push_all(store, ["a", "b", "c"])
    assert await store.outbox_pending_count() == 3
    await store.outbox_claim("worker-a", 0.2, limit=3)
    assert await store.outbox_pending_count() == 3
    await store.outbox_ack(ids[1])
    await store.outbox_ack("no-such-entry")
    assert await store.outbox_pending_count() == 2
    await backend.elapse(0.25)
    assert await store.outbox_claim("worker-b", 30, limit=10) == [(ids[0], "a"), (ids[2], "c")]


async def test_expired_lease_of_a_crashed_worker_is_claimed_by_another(backend: Backend) -> None:
    store = backend.store
    ids = await push_all(store, ["a", "b", "c"])
    crashed = await store.outbox_claim("worker-crashed", 0.2, limit=2)
    assert [entry_id for entry_id, _ in crashed] == ids[:2]
    assert await store.outbox_claim("worker-b", 30, limit=10) == [(ids[2], "c")]
    await backend.elapse(0.25)
    resumed = await store.outbox_claim("worker-b", 30, limit=10)
    assert resumed == [(ids[0], "a"), (ids[1], "b")]
    for entry_id in ids:
        await store.outbox_ack(entry_id)
    assert await store.outbox_pending_count() == 0
    await backend.elapse(0.25)
    assert await store.outbox_claim("worker-c", 30, limit=10) == []


async def test_a_short_lease_claimer_cannot_take_a_live_long_lease(backend: Backend) -> None:
    store = backend.store
    await push_all(store, ["a"])
    assert len(await store.outbox_claim("worker-a", 30, limit=1)) == 1
    await backend.elapse(0.25)
    assert await store.outbox_claim("worker-b", 0.1, limit=1) == []


async def test_claim_skips_leased_entries_at_the_head_of_a_long_queue(store: Store) -> None:
    ids = await push_all(store, [f"m{number}" for number in range(250)])
    held = await store.outbox_claim("worker-a", 30, limit=240)
    assert [entry_id for entry_id, _ in held] == ids[:240]
    rest = await store.outbox_claim("worker-b", 30, limit=5)
    assert [entry_id for entry_id, _ in rest] == ids[240:245]
    assert await store.outbox_claim("worker-c", 30, limit=0) == []


async def test_concurrent_claimers_never_share_an_entry(store: Store) -> None:
    ids = await push_all(store, [f"m{number}" for number in range(40)])
    batches = await asyncio.gather(
        *(store.outbox_claim(f"worker-{number}", 30, limit=3) for number in range(10))
    )
    claimed = [entry_id for batch in batches for entry_id, _ in batch]
    assert sorted(claimed) == sorted(ids[:30])
