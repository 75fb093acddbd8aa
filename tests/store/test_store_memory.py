"""Memory-only behaviour that needs the substitutable clock: exact expiry edges and retention."""

from __future__ import annotations

from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS
from bot.store.memory import MemoryStore
from tests.store.conftest import FakeClock


async def test_expiry_happens_exactly_at_the_ttl(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    assert await store.claim_once("delivery-1", 10)
    clock.advance(9.999)
    assert not await store.claim_once("delivery-1", 10)
    clock.advance(0.001)
    assert await store.claim_once("delivery-1", 10)


async def test_resolved_incident_and_timeline_expire_after_retention(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.put_incident("inc-1", "g", "open", open=True)
    await store.append_timeline("inc-1", "opened")
    clock.advance(RESOLVED_INCIDENT_TTL_SECONDS * 2)
    assert await store.get_incident("inc-1") == "open"
    await store.put_incident("inc-1", "g", "resolved", open=False)
    await store.append_timeline("inc-1", "resolved")
    clock.advance(RESOLVED_INCIDENT_TTL_SECONDS - 1)
    assert await store.get_incident("inc-1") == "resolved"
    assert await store.timeline("inc-1") == ["opened", "resolved"]
    clock.advance(1)
    assert await store.get_incident("inc-1") is None
    assert await store.timeline("inc-1") == []


async def test_reopening_cancels_the_retention_expiry(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.append_timeline("inc-1", "opened")
    await store.put_incident("inc-1", "g", "resolved", open=False)
    await store.put_incident("inc-1", "g", "reopened", open=True)
    clock.advance(RESOLVED_INCIDENT_TTL_SECONDS * 2)
    assert await store.get_incident("inc-1") == "reopened"
    assert await store.timeline("inc-1") == ["opened"]


async def test_expired_keys_that_are_never_read_again_are_swept(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    for number in range(100):
        await store.claim_once(f"old-{number}", 1)
    clock.advance(2)
    for number in range(1_000):
        await store.set_value(f"live-{number}", "x", 60)
    assert store.held_key_count() == 1_000
