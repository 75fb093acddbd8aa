"""The outbox on Redis Streams: a stream and consumer group per channel lane, a sorted set
listing lanes with work, a lease key per lane owner, a hash per message slot and per write."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.store import redis_outbox_scripts, redis_scripts
from bot.store.keys import DEAD_LETTERS_KEPT, LANE_GROUP, OUTBOX_RECORD_TTL_SECONDS
from bot.store.outbox_contract import (
    Fence,
    LaneEntry,
    LaneLost,
    OpRecord,
    OutboxStats,
    SlotState,
)
from bot.store.redis_base import RedisBase, milliseconds, text


class RedisOutbox(RedisBase):
    async def enqueue(self, lane: str, item: str) -> str:
        keys = [self._keys.lane(lane), self._keys.lanes()]
        with self._guard("enqueue"):
            entry_id = await self._script(redis_outbox_scripts.ENQUEUE)(
                keys=keys, args=[LANE_GROUP, item, lane]
            )
        return str(text(entry_id))

    async def write_slot(self, lane: str, slot: str, content: str, item: str) -> bool:
        keys = [self._keys.slot(slot), self._keys.lane(lane), self._keys.lanes()]
        args: list[str | int] = [
            LANE_GROUP,
            content,
            item,
            lane,
            milliseconds(OUTBOX_RECORD_TTL_SECONDS),
        ]
        with self._guard("write_slot"):
            return bool(await self._script(redis_outbox_scripts.WRITE_SLOT)(keys=keys, args=args))

    async def read_slot(self, slot: str) -> SlotState | None:
        with self._guard("read_slot"):
            fields = await self._redis.hgetall(self._keys.slot(slot))
        if not fields or "content" not in fields:
            return None
        return SlotState(
            content=str(fields["content"]),
            version=int(fields.get("version", 0)),
            synced=int(fields.get("synced", 0)),
            failed=text(fields.get("failed")),
        )

    async def finish_slot_sync(
        self, lane: str, entry_id: str, slot: str, version: int, item: str
    ) -> bool:
        keys = [self._keys.slot(slot), self._keys.lane(lane), self._keys.lanes()]
        args: list[str | int] = [LANE_GROUP, entry_id, version, item, lane]
        with self._guard("finish_slot_sync"):
            return bool(
                await self._script(redis_outbox_scripts.FINISH_SLOT_SYNC)(keys=keys, args=args)
            )

    async def fail_slot(self, slot: str, reason: str) -> None:
        with self._guard("fail_slot"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._keys.slot(slot), mapping={"failed": reason})
                pipe.hdel(self._keys.slot(slot), "pending")
                pipe.pexpire(self._keys.slot(slot), milliseconds(OUTBOX_RECORD_TTL_SECONDS))
                await pipe.execute()

    async def op_record(self, op_id: str) -> OpRecord:
        with self._guard("op_record"):
            fields = await self._redis.hgetall(self._keys.op(op_id))
        return OpRecord(
            attempt=text(fields.get("attempt")),
            done=text(fields.get("done")),
            failed=text(fields.get("failed")),
        )

    async def mark_attempt(
        self, op_id: str, attempt: str, *, fence: Fence, expected: str | None
    ) -> str | None:
        keys = [self._keys.op(op_id), self._keys.lane_owner(fence.lane)]
        consumer = attempt.partition(" ")[2]
        args: list[str | int] = [
            fence.token,
            attempt,
            expected or "",
            consumer,
            milliseconds(OUTBOX_RECORD_TTL_SECONDS),
        ]
        script = self._script(redis_outbox_scripts.MARK_ATTEMPT)
        with self._guard("mark_attempt"):
            async with self._redis.pipeline(transaction=False) as pipe:
                await script(keys=keys, args=args, client=pipe)
                reply = (await self._confirm(pipe, "mark_attempt"))[0]
        if int(reply[0]) == 0:
            raise LaneLost(fence.lane)
        return str(text(reply[1])) if int(reply[0]) == 2 else None

    async def mark_done(self, op_id: str, result: str) -> None:
        await self._mark(op_id, "done", result)

    async def mark_failed(self, op_id: str, reason: str) -> None:
        await self._mark(op_id, "failed", reason)

    async def _mark(self, op_id: str, field: str, value: str) -> None:
        key = self._keys.op(op_id)
        with self._guard(f"mark_{field}"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={field: value})
                pipe.pexpire(key, milliseconds(OUTBOX_RECORD_TTL_SECONDS))
                await pipe.execute()

    async def lanes(self) -> list[str]:
        with self._guard("lanes"):
            found = await self._redis.zrange(self._keys.lanes(), 0, -1)
        return [str(text(lane)) for lane in found]

    async def claim_lane(self, lane: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        ttl_ms = milliseconds(ttl_seconds)
        with self._guard("claim_lane"):
            taken = await self._redis.set(self._keys.lane_owner(lane), token, nx=True, px=ttl_ms)
        return token if taken else None

    async def renew_lane(self, lane: str, token: str, ttl_seconds: float) -> bool:
        args: list[str | int] = [token, milliseconds(ttl_seconds)]
        with self._guard("renew_lane"):
            return bool(
                await self._script(redis_scripts.EXTEND_LOCK)(
                    keys=[self._keys.lane_owner(lane)], args=args
                )
            )

    async def release_lane(self, lane: str, token: str) -> bool:
        with self._guard("release_lane"):
            return bool(
                await self._script(redis_scripts.RELEASE_LOCK)(
                    keys=[self._keys.lane_owner(lane)], args=[token]
                )
            )

    async def owns_lane(self, lane: str, token: str) -> bool:
        with self._guard("owns_lane"):
            return text(await self._redis.get(self._keys.lane_owner(lane))) == token

    async def fetch_lane(
        self, lane: str, token: str, consumer: str, limit: int
    ) -> list[LaneEntry] | None:
        keys = [self._keys.lane(lane), self._keys.lane_owner(lane)]
        args: list[str | int] = [token, LANE_GROUP, consumer, max(1, limit)]
        with self._guard("fetch_lane"):
            reply = await self._script(redis_outbox_scripts.FETCH_LANE)(keys=keys, args=args)
        if reply is None:
            return None
        taken_over, raw_entries = reply
        return [
            entry
            for raw in raw_entries
            if (entry := _entry(raw, taken_over=bool(int(taken_over)))) is not None
        ]

    async def peek_lane(self, lane: str, limit: int) -> list[LaneEntry]:
        with self._guard("peek_lane"):
            found = await self._redis.xrange(self._keys.lane(lane), count=max(1, limit))
        return [e for raw in found or [] if (e := _entry(raw, taken_over=False)) is not None]

    async def ack_entry(self, lane: str, entry_id: str) -> None:
        stream = self._keys.lane(lane)
        with self._guard("ack_entry"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(stream, LANE_GROUP, entry_id)
                pipe.xdel(stream, entry_id)
                await pipe.execute()

    async def requeue_entry(
        self, lane: str, entry_id: str, item: str, requeues: int, not_before: float
    ) -> str:
        keys = [self._keys.lane(lane), self._keys.lanes()]
        args: list[str | int] = [LANE_GROUP, entry_id, item, requeues, f"{not_before:.3f}", lane]
        with self._guard("requeue_entry"):
            new_id = await self._script(redis_outbox_scripts.REQUEUE_ENTRY)(keys=keys, args=args)
        return str(text(new_id))

    async def dead_letter(self, lane: str, entry_id: str, record: str) -> None:
        keys = [self._keys.lane(lane), self._keys.dead_letters()]
        args: list[str | int] = [LANE_GROUP, entry_id, record, DEAD_LETTERS_KEPT]
        with self._guard("dead_letter"):
            await self._script(redis_outbox_scripts.DEAD_LETTER)(keys=keys, args=args)

    async def retire_lane(self, lane: str, token: str) -> bool:
        keys = [self._keys.lane(lane), self._keys.lanes(), self._keys.lane_owner(lane)]
        with self._guard("retire_lane"):
            return bool(
                await self._script(redis_outbox_scripts.RETIRE_LANE)(keys=keys, args=[token, lane])
            )

    async def dead_letters(self, limit: int) -> list[str]:
        with self._guard("dead_letters"):
            found = await self._redis.lrange(self._keys.dead_letters(), 0, max(0, limit - 1))
        return [str(text(record)) for record in found]

    async def outbox_stats(self) -> OutboxStats:
        with self._guard("outbox_stats"):
            lanes = await self.lanes()
            async with self._redis.pipeline(transaction=False) as pipe:
                for lane in lanes:
                    pipe.xlen(self._keys.lane(lane))
                    pipe.xrange(self._keys.lane(lane), count=1)
                pipe.llen(self._keys.dead_letters())
                replies = await pipe.execute()
        pending, oldest_ms = 0, None
        for length, first in zip(replies[:-1:2], replies[1:-1:2], strict=True):
            pending += int(length)
            if first:
                started = int(str(first[0][0]).split("-", 1)[0])
                oldest_ms = started if oldest_ms is None else min(oldest_ms, started)
        age = 0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000)
        return OutboxStats(pending=pending, oldest_age_seconds=age, dead_letters=int(replies[-1]))


def _entry(raw: Any, *, taken_over: bool) -> LaneEntry | None:
    entry_id, flat = raw
    if not flat:  # deleted while pending: nothing left to deliver
        return None
    fields = flat if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=True))
    return LaneEntry(
        entry_id=str(text(entry_id)),
        item=str(fields.get("op", "")),
        requeues=int(fields.get("requeues", 0)),
        not_before=float(fields.get("not_before", 0)),
        taken_over=taken_over,
    )
