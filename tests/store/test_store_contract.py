"""Behaviour every Store backend must share: claims, small values, rate limits, paces, locks,
registered work, closing."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.base import Store, StoreUnavailable
from tests.store.conftest import Backend


async def test_reports_its_name_and_answers_ping(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    await backend.store.ping()
    assert backend.store.name == request.node.callspec.params["backend"]


async def test_claim_once_is_true_only_for_the_first_caller(store: Store) -> None:
    assert await store.claim_once("delivery-1", 60) is True
    assert await store.claim_once("delivery-1", 60) is False
    assert await store.claim_once("delivery-2", 60) is True


async def test_released_claim_can_be_claimed_again(store: Store) -> None:
    assert await store.claim_once("delivery-1", 60)
    await store.release_claim("delivery-1")
    assert await store.claim_once("delivery-1", 60) is True
    await store.release_claim("never-claimed")


async def test_claim_expires_after_its_ttl(backend: Backend) -> None:
    store = backend.store
    assert await store.claim_once("delivery-1", 0.2)
    assert not await store.claim_once("delivery-1", 0.2)
    await backend.elapse(0.25)
    assert await store.claim_once("delivery-1", 0.2) is True


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
async def test_rejects_ttls_that_are_not_positive_and_finite(store: Store, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.claim_once("delivery-1", ttl)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.acquire_lock("digest", ttl)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.set_value("cache", "x", ttl)


async def test_values_round_trip_and_overwrite(store: Store) -> None:
    assert await store.get_value("cursor") is None
    await store.set_value("cursor", "a", None)
    assert await store.get_value("cursor") == "a"
    await store.set_value("cursor", "b", None)
    assert await store.get_value("cursor") == "b"


async def test_values_with_a_ttl_expire_and_without_one_stay(backend: Backend) -> None:
    store = backend.store
    await store.set_value("cached", "fresh", 0.2)
    await store.set_value("kept", "forever", None)
    assert await store.get_value("cached") == "fresh"
    await backend.elapse(0.25)
    assert await store.get_value("cached") is None
    assert await store.get_value("kept") == "forever"


async def test_overwriting_without_ttl_removes_the_old_expiry(backend: Backend) -> None:
    store = backend.store
    await store.set_value("state", "v1", 0.2)
    await store.set_value("state", "v2", None)
    await backend.elapse(0.25)
    assert await store.get_value("state") == "v2"


async def test_claims_values_and_locks_do_not_share_keys(store: Store) -> None:
    await store.set_value("same-name", "value", None)
    assert await store.claim_once("same-name", 60)
    assert await store.acquire_lock("same-name", 60) is not None
    assert await store.get_value("same-name") == "value"


async def test_lock_is_exclusive_until_released(store: Store) -> None:
    token = await store.acquire_lock("digest", 30)
    assert token
    assert await store.acquire_lock("digest", 30) is None
    assert await store.release_lock("digest", token) is True
    second = await store.acquire_lock("digest", 30)
    assert second is not None
    assert second != token


async def test_only_the_holder_releases_a_lock(store: Store) -> None:
    token = await store.acquire_lock("digest", 30)
    assert token is not None
    assert await store.release_lock("digest", "someone-else") is False
    assert await store.acquire_lock("digest", 30) is None
    assert await store.release_lock("digest", token) is True
    assert await store.release_lock("digest", token) is False


async def test_expired_lock_goes_to_the_next_caller_and_old_token_is_void(backend: Backend) -> None:
    store = backend.store
    stale = await store.acquire_lock("digest", 0.2)
    assert stale is not None
    await backend.elapse(0.25)
    fresh = await store.acquire_lock("digest", 30)
    assert fresh is not None
    assert await store.release_lock("digest", stale) is False
    assert await store.extend_lock("digest", stale, 30) is False
    assert await store.acquire_lock("digest", 30) is None


async def test_extended_lock_outlives_its_first_ttl(backend: Backend) -> None:
    store = backend.store
    token = await store.acquire_lock("digest", 0.2)
    assert token is not None
    assert await store.extend_lock("digest", token, 30) is True
    assert await store.extend_lock("digest", "someone-else", 30) is False
    await backend.elapse(0.25)
    assert await store.acquire_lock("digest", 30) is None
    assert await store.release_lock("digest", token) is True


async def test_closed_store_raises_store_unavailable(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.claim_once("delivery-1", 60)
    with pytest.raises(StoreUnavailable):
        await store.enqueue("C0GENERAL", "{}")
    with pytest.raises(StoreUnavailable):
        await store.take_rate_slot("triage:U0ALICE", 3, 60)


async def test_rate_slots_allow_n_runs_per_window_then_say_when(backend: Backend) -> None:
    store = backend.store
    assert [await store.take_rate_slot("triage:U0ALICE", 2, 0.5) for _ in range(2)] == [0, 0]
    wait = await store.take_rate_slot("triage:U0ALICE", 2, 0.5)
    assert 0 < wait <= 0.5
    assert await store.take_rate_slot("triage:U0BOB", 2, 0.5) == 0
    await backend.elapse(0.55)
    assert await store.take_rate_slot("triage:U0ALICE", 2, 0.5) == 0


async def test_concurrent_rate_slot_takers_never_exceed_the_limit(store: Store) -> None:
    waits = await asyncio.gather(*(store.take_rate_slot("t:U0ALICE", 3, 60) for _ in range(20)))
    assert sum(1 for wait in waits if wait == 0) == 3


async def test_recent_members_are_kept_newest_first_and_bounded(backend: Backend) -> None:
    store = backend.store
    for user in ("U1", "U2", "U3", "U1"):
        await store.touch_member("viewers", user, 60, most=2)
    assert await store.recent_members("viewers", 60) == ["U1", "U3"]
    await backend.elapse(0.3)
    await store.touch_member("viewers", "U4", 60, most=2)
    assert await store.recent_members("viewers", 0.2) == ["U4"]
    assert await store.recent_members("nobody", 60) == []


async def test_a_pace_allows_a_burst_then_one_turn_per_interval(store: Store) -> None:
    waits = [await store.reserve_pace("post:C1", 1.0, burst=2) for _ in range(4)]
    assert waits[:2] == [0, 0]
    assert waits[2] == pytest.approx(1.0, abs=0.05)
    assert waits[3] == pytest.approx(2.0, abs=0.05)
    assert await store.reserve_pace("post:C2", 1.0, burst=2) == 0


async def test_a_held_pace_gives_no_turn_before_the_hold_ends(store: Store) -> None:
    await store.hold_pace("method:chat.update", 3)
    wait = await store.reserve_pace("method:chat.update", 0.5, burst=5)
    assert wait == pytest.approx(3.0, abs=0.05)


async def test_work_registers_once_and_finishes_only_as_registered(store: Store) -> None:
    assert await store.register_work("triage", "inc-1", "run-1", once="o:1", once_ttl=60)
    assert not await store.register_work("triage", "inc-1", "run-1b", once="o:1", once_ttl=60)
    assert await store.register_work("triage", "inc-2", "run-2", once=None, once_ttl=60)
    assert await store.unfinished_work("triage") == {"inc-1": "run-1", "inc-2": "run-2"}
    assert await store.register_work("triage", "inc-1", "rerun-1", once=None, once_ttl=60)
    assert await store.finish_work("triage", "inc-1", "run-1") is False  # a newer run is due
    assert await store.finish_work("triage", "inc-1", "rerun-1") is True
    assert await store.unfinished_work("triage") == {"inc-2": "run-2"}
    assert await store.unfinished_work("digest") == {}
