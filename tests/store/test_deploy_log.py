"""Deploy events in the shared store: written by one replica, read by another, bounded."""

from __future__ import annotations

from bot.deploys.log import DeployLog
from bot.models import Change
from bot.store import RedisStore
from bot.store.keys import KeySpace
from bot.store.redis_store import connect
from tests.store.conftest import Backend, redis_url


def deploy(at: float, version: str = "1.5.0") -> Change:
    return Change(kind="deploy", at=at, detail=f"checkout {version} by ci")


async def test_events_in_the_window_come_back_oldest_first(backend: Backend) -> None:
    log = DeployLog(backend.store)
    for at, version in ((300.0, "1.5.0"), (100.0, "1.4.0"), (900.0, "1.6.0")):
        await log.record("checkout", deploy(at, version))
    await log.record("payments", deploy(200.0))
    found = await log.between("checkout", 50.0, 500.0)
    assert found == (deploy(100.0, "1.4.0"), deploy(300.0, "1.5.0"))
    assert await log.between("orders", 0.0, 1e12) == ()


async def test_a_repeated_event_is_kept_once(backend: Backend) -> None:
    log = DeployLog(backend.store)
    await log.record("checkout", deploy(300.0))
    await log.record("checkout", deploy(300.0))
    assert await log.between("checkout", 0.0, 1e12) == (deploy(300.0),)


async def test_another_replica_reads_what_one_wrote(key_space: KeySpace) -> None:
    writer = RedisStore(connect(redis_url()), key_space)
    reader = RedisStore(connect(redis_url()), key_space)
    try:
        await DeployLog(writer).record("checkout", deploy(300.0))
        assert await DeployLog(reader).between("checkout", 0.0, 1e12) == (deploy(300.0),)
    finally:
        await writer.close()
        await reader.close()
