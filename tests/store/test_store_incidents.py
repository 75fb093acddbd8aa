"""Incident documents, group ownership and timelines, for every backend."""

from __future__ import annotations

import asyncio
import json

from bot.store.base import Store


def document(incident_id: str, status: str = "open") -> str:
    return json.dumps({"id": incident_id, "status": status})


async def test_put_incident_is_found_by_id_and_group(store: Store) -> None:
    await store.put_incident("inc-1", "checkout:latency", document("inc-1"), open=True)
    assert await store.get_incident("inc-1") == document("inc-1")
    assert await store.incident_for_group("checkout:latency") == "inc-1"
    assert await store.get_incident("inc-unknown") is None
    assert await store.incident_for_group("unknown-group") is None


async def test_put_incident_replaces_the_document(store: Store) -> None:
    await store.put_incident("inc-1", "checkout:latency", document("inc-1"), open=True)
    updated = json.dumps({"id": "inc-1", "status": "open", "severity": "critical"})
    await store.put_incident("inc-1", "checkout:latency", updated, open=True)
    assert await store.get_incident("inc-1") == updated


async def test_open_incidents_are_listed_newest_first(store: Store) -> None:
    for number in range(1, 5):
        incident_id = f"inc-{number}"
        await store.put_incident(incident_id, f"group-{number}", document(incident_id), open=True)
    await store.put_incident("inc-2", "group-2", document("inc-2"), open=True)
    assert await store.open_incident_ids() == ["inc-4", "inc-3", "inc-2", "inc-1"]


async def test_resolving_keeps_the_document_but_frees_the_group(store: Store) -> None:
    await store.put_incident("inc-1", "checkout:latency", document("inc-1"), open=True)
    await store.put_incident("inc-2", "orders:errors", document("inc-2"), open=True)
    resolved = document("inc-1", "resolved")
    await store.put_incident("inc-1", "checkout:latency", resolved, open=False)
    assert await store.get_incident("inc-1") == resolved
    assert await store.incident_for_group("checkout:latency") is None
    assert await store.open_incident_ids() == ["inc-2"]
    owner = await store.create_incident_if_absent("checkout:latency", "inc-3", document("inc-3"))
    assert owner == "inc-3"


async def test_resolving_an_old_incident_leaves_the_new_owner_of_its_group(store: Store) -> None:
    await store.put_incident("inc-1", "checkout:latency", document("inc-1"), open=False)
    await store.put_incident("inc-2", "checkout:latency", document("inc-2"), open=True)
    await store.put_incident("inc-1", "checkout:latency", document("inc-1", "x"), open=False)
    assert await store.incident_for_group("checkout:latency") == "inc-2"


async def test_reopened_incident_is_listed_again(store: Store) -> None:
    await store.put_incident("inc-1", "g1", document("inc-1"), open=True)
    await store.put_incident("inc-2", "g2", document("inc-2"), open=True)
    await store.put_incident("inc-1", "g1", document("inc-1", "resolved"), open=False)
    await store.put_incident("inc-1", "g1", document("inc-1"), open=True)
    assert await store.open_incident_ids() == ["inc-1", "inc-2"]
    assert await store.incident_for_group("g1") == "inc-1"


async def test_concurrent_creators_agree_on_one_owner(store: Store) -> None:
    async def create(number: int) -> str:
        await asyncio.sleep(0)
        incident_id = f"inc-{number}"
        return await store.create_incident_if_absent(
            "checkout:latency", incident_id, document(incident_id)
        )

    owners = await asyncio.gather(*(create(number) for number in range(20)))
    winner = owners[0]
    assert set(owners) == {winner}
    assert await store.incident_for_group("checkout:latency") == winner
    assert await store.get_incident(winner) == document(winner)
    assert await store.open_incident_ids() == [winner]
    losers = [f"inc-{number}" for number in range(20) if f"inc-{number}" != winner]
    assert [await store.get_incident(loser) for loser in losers] == [None] * 19


async def test_create_if_absent_keeps_the_existing_document(store: Store) -> None:
    assert await store.create_incident_if_absent("g", "inc-1", document("inc-1")) == "inc-1"
    assert await store.create_incident_if_absent("g", "inc-2", document("inc-2")) == "inc-1"
    assert await store.get_incident("inc-1") == document("inc-1")
    assert await store.get_incident("inc-2") is None


async def test_timeline_keeps_entries_in_order_per_incident(store: Store) -> None:
    await store.put_incident("inc-1", "g1", document("inc-1"), open=True)
    entries = [json.dumps({"step": step}) for step in ("opened", "apm", "event-loop")]
    for entry in entries:
        await store.append_timeline("inc-1", entry)
    await store.append_timeline("inc-2", "other incident")
    assert await store.timeline("inc-1") == entries
    assert await store.timeline("inc-2") == ["other incident"]
    assert await store.timeline("inc-unknown") == []


async def test_incidents_opened_since_lists_new_incidents_oldest_first(store: Store) -> None:
    import time

    before = time.time() - 1
    await store.create_incident_if_absent("g1", "i-1", "{}")
    await store.create_incident_if_absent("g1", "i-other", "{}")  # group taken: not opened
    await store.create_incident_if_absent("g2", "i-2", "{}")
    await store.put_incident("i-1", "g1", "{}", open=False)
    await store.create_incident_if_absent("g1", "i-1", "{}")  # reopened: not listed twice
    assert await store.incident_ids_opened_since(before) == ["i-1", "i-2"]
    assert await store.incident_ids_opened_since(time.time() + 60) == []


async def test_firing_fingerprints_are_counted_beside_the_document(store: Store) -> None:
    await store.put_incident("inc-1", "g", document("inc-1"), open=True)
    first = await store.update_firing("inc-1", {"fp-a": "t0", "fp-b": "t0"}, [])
    assert (first.firing, first.received) == (2, 2)
    again = await store.update_firing("inc-1", {"fp-a": "t1", "fp-c": "t1"}, ["fp-b", "fp-x"])
    assert (again.firing, again.received) == (2, 3)
    repeated = await store.update_firing("inc-1", {"fp-a": "t1", "fp-c": "t1"}, ["fp-b", "fp-x"])
    assert repeated == again
    assert await store.firing_fingerprints("inc-1") == {"fp-a": "t1", "fp-c": "t1"}
    cleared = await store.update_firing("inc-1", {}, ["fp-a", "fp-c"])
    assert (cleared.firing, cleared.received) == (0, 3)
    assert await store.firing_fingerprints("inc-1") == {}
    assert await store.get_incident("inc-1") == document("inc-1")


async def test_a_large_firing_set_does_not_grow_the_document(store: Store) -> None:
    await store.put_incident("inc-1", "g", document("inc-1"), open=True)
    storm = {f"fp-{n:05d}": "2026-11-02T09:00:00+00:00" for n in range(10_000)}
    change = await store.update_firing("inc-1", storm, [])
    assert (change.firing, change.received) == (10_000, 10_000)
    assert await store.get_incident("inc-1") == document("inc-1")
