"""One digest per channel and ISO week, however many replicas run and however often they restart.

The order matters:

1. a "sent" record for the week means there is nothing to do;
2. a store lock named after the channel and week admits one builder (kept alive while it builds);
3. the record is checked again under the lock, since another replica may just have finished;
4. the digest is built and its outbox items pushed; if pushing fails the lock is released so a
   later run retries (items already pushed are harmless: the outbox posts once per key);
5. the "sent" record is written.

A crash after step 4 leaves no record: the next run rebuilds and pushes the same keys again,
which the outbox turns into no-ops for whatever was already posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import structlog

from bot.digest.period import DigestPeriod
from bot.outbox.ops import Post, Upload
from bot.outbox.queue import Outbox
from bot.store import keys
from bot.store.base import LeaseStore, StoreUnavailable, ValueStore
from bot.store.keys import DIGEST_BUILD_LOCK_TTL_SECONDS, DIGEST_SENT_TTL_SECONDS
from bot.store.outbox_contract import OutboxStore

log = structlog.get_logger(__name__)

Produce = Callable[[DigestPeriod], Awaitable[Sequence[Post | Upload]]]


class DigestStore(ValueStore, LeaseStore, OutboxStore, Protocol):
    """What the digest needs of the store: its records, its lock, and the outbox."""


class DigestOutcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    BUSY = "busy"  # another replica holds the week's lock
    FAILED = "failed"


class DigestGuard:
    def __init__(
        self,
        store: DigestStore,
        *,
        lock_ttl: float = DIGEST_BUILD_LOCK_TTL_SECONDS,
        outbox: Outbox | None = None,
    ) -> None:
        self._store = store
        self._lock_ttl = lock_ttl
        self._outbox = outbox or Outbox(store)

    async def is_sent(self, period: DigestPeriod) -> bool:
        return await self._store.get_value(_sent_key(period)) is not None

    async def run_once(self, period: DigestPeriod, produce: Produce) -> DigestOutcome:
        if await self.is_sent(period):
            return DigestOutcome.ALREADY_SENT
        lock = _lock_name(period)
        token = await self._store.acquire_lock(lock, self._lock_ttl)
        if token is None:
            return DigestOutcome.BUSY
        try:
            async with self._kept_alive(lock, token):
                if await self.is_sent(period):
                    return DigestOutcome.ALREADY_SENT
                ops = await produce(period)
            return await self._enqueue(period, lock, token, ops)
        finally:
            with contextlib.suppress(StoreUnavailable):
                await self._store.release_lock(lock, token)

    async def _enqueue(
        self, period: DigestPeriod, lock: str, token: str, ops: Sequence[Post | Upload]
    ) -> DigestOutcome:
        if not await self._store.extend_lock(lock, token, self._lock_ttl):
            log.warning("digest_lock_lost", channel=period.channel, week=period.week)
            return DigestOutcome.BUSY
        try:
            await self._outbox.send(*ops)
        except StoreUnavailable as error:
            log.error("digest_enqueue_failed", channel=period.channel, reason=str(error))
            return DigestOutcome.FAILED
        record = {"at": datetime.now(UTC).isoformat(), "items": len(ops)}
        await self._store.set_value(_sent_key(period), json.dumps(record), DIGEST_SENT_TTL_SECONDS)
        return DigestOutcome.SENT

    @contextlib.asynccontextmanager
    async def _kept_alive(self, lock: str, token: str) -> AsyncIterator[None]:
        """Extend the lock while the digest builds, so a slow build keeps its claim."""

        async def extend() -> None:
            while True:
                await asyncio.sleep(self._lock_ttl / 3)
                with contextlib.suppress(StoreUnavailable):
                    await self._store.extend_lock(lock, token, self._lock_ttl)

        keeper = asyncio.create_task(extend(), name="digest-lock-keeper")
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper


def _lock_name(period: DigestPeriod) -> str:
    return keys.digest_lock(period.channel, period.week)


def _sent_key(period: DigestPeriod) -> str:
    return keys.digest_sent(period.channel, period.week)
