"""Holding a store lease for as long as some work runs: acquire, renew in the background,
release at the end.

    async with held_lease(store, keys.group_lock(group), GROUP_LOCK_TTL_SECONDS, wait=10):
        ...  # read-modify-write; the lease is renewed every third of its TTL meanwhile

If the holder dies, renewal stops and the lease lapses after its TTL, so another process can
take over; `Lease.lost` tells long work that it should stop because a renewal was refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from bot.store.base import LeaseStore, StoreUnavailable

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.02


class LeaseBusy(StoreUnavailable):
    """Someone else held the lease for longer than the caller would wait; retry shortly."""


@dataclass
class Lease:
    name: str
    token: str
    lost: bool = False


@contextlib.asynccontextmanager
async def held_lease(
    leases: LeaseStore, name: str, ttl_seconds: float, *, wait: float = 0.0
) -> AsyncIterator[Lease]:
    """Hold `name` for the block; raise LeaseBusy if it stays taken for `wait` seconds."""
    token = await acquire(leases, name, ttl_seconds, wait=wait)
    if token is None:
        raise LeaseBusy(f"{name!r} stayed taken for {wait:g} s; retry shortly")
    async with kept(leases, Lease(name, token), ttl_seconds) as lease:
        yield lease


async def acquire(
    leases: LeaseStore, name: str, ttl_seconds: float, *, wait: float = 0.0
) -> str | None:
    deadline = time.monotonic() + wait
    while True:
        token = await leases.acquire_lock(name, ttl_seconds)
        if token is not None or time.monotonic() >= deadline:
            return token
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def kept(leases: LeaseStore, lease: Lease, ttl_seconds: float) -> AsyncIterator[Lease]:
    """Renew an acquired lease while the block runs, release it after."""
    keeper = asyncio.create_task(_renew(leases, lease, ttl_seconds), name=f"lease-{lease.name}")
    try:
        yield lease
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        if not lease.lost:
            with contextlib.suppress(StoreUnavailable):
                await leases.release_lock(lease.name, lease.token)


async def _renew(leases: LeaseStore, lease: Lease, ttl_seconds: float) -> None:
    while True:
        await asyncio.sleep(ttl_seconds / 3)
        try:
            renewed = await leases.extend_lock(lease.name, lease.token, ttl_seconds)
        except StoreUnavailable:
            continue
        if not renewed:
            log.warning("a lease was lost while its work ran", lease=lease.name)
            lease.lost = True
            return
