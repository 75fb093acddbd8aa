"""One queued entry to Slack: decode it, wait for its thread, write it once, settle the entry.

`handle` acknowledges, requeues or dead-letters the entry itself and returns None to go on with
the lane, or the seconds to pause the lane before trying the same entry again (a 429, a 5xx, a
dropped connection): the lane keeps its order, so later entries wait for this one.
"""

from __future__ import annotations

import time

import aiohttp
import structlog
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.outbox.dead_letters import DeadLetters, Refusal
from bot.outbox.ops import AnyOp, Post, SlotContent, SyncSlot, Upload, decode
from bot.outbox.queue import Outbox
from bot.outbox.refusals import refusal_for
from bot.outbox.writes import Contended, SlackWrites, Throttled
from bot.store.base import StoreUnavailable
from bot.store.outbox_contract import Fence, LaneEntry, LaneLost, OutboxStore

log = structlog.get_logger(__name__)

# A reply whose parent is neither posted nor refused is put back this many times, waiting a
# little longer each time, before it is given up.
MAX_REQUEUES = 12
REQUEUE_BASE_SECONDS = 0.5
REQUEUE_MAX_SECONDS = 10.0
# Failures that are not Slack's word (bugs, odd replies) are retried this often.
MAX_UNEXPLAINED_FAILURES = 5
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0

_TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError, SlackClientError)


class Waiting(Exception):
    """The message this one replies to is not posted yet."""


class ThreadFailed(Exception):
    """The message this one replies to was given up."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Delivery:
    def __init__(
        self, store: OutboxStore, writes: SlackWrites, outbox: Outbox, dead: DeadLetters
    ) -> None:
        self._store = store
        self._writes = writes
        self._outbox = outbox
        self._dead = dead
        self._failures: dict[str, int] = {}  # by entry: for the back-off
        self._strikes: dict[str, int] = {}  # by entry: failures no retry is known to fix

    async def handle(self, fence: Fence, entry: LaneEntry) -> float | None:
        """Deliver `entry` of the lane `fence` holds. Raises LaneLost when the lease is gone."""
        try:
            op = decode(entry.item)
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            reason = f"undecodable entry ({'.'.join(map(str, problem['loc']))}: {problem['msg']})"
            await self._dead.bury(fence.lane, entry, None, Refusal("undecodable", reason))
            return None
        try:
            await self._deliver(fence, entry, op)
        except (StoreUnavailable, LaneLost):
            raise
        except (Contended, Throttled):
            # Fetch again: the next attempt looks a rival's write up first, or waits out
            # the pace a 429 held for Retry-After.
            return 0.0
        except Exception as error:
            return await self._failed(fence.lane, entry, op, error)
        self._forget(entry)
        return None

    async def _failed(
        self, lane: str, entry: LaneEntry, op: AnyOp, error: Exception
    ) -> float | None:
        """Settle or pause after a failed delivery: wait for the thread, bury what Slack
        refuses for good, back off from the rest."""
        if isinstance(error, Waiting):
            await self._wait_for_thread(lane, entry, op)
        elif isinstance(error, ThreadFailed):
            reason = f"the message it replies to could not be posted ({error.reason})"
            await self._dead.bury(lane, entry, op, Refusal("thread_failed", reason, False))
        elif isinstance(error, SlackApiError):
            return await self._refused(lane, entry, op, error)
        elif isinstance(error, _TRANSPORT_ERRORS):
            return self._retry_later(entry, type(error).__name__)
        else:
            log.error("delivering a Slack write failed", lane=lane, op=op.op_id, exc_info=error)
            return await self._unexplained(lane, entry, op, "delivery_error")
        self._forget(entry)
        return None

    async def _deliver(self, fence: Fence, entry: LaneEntry, op: AnyOp) -> None:
        thread_ts = await self._thread_ts(op)
        if isinstance(op, SyncSlot):
            await self._sync(fence, entry, op, thread_ts)
            return
        if isinstance(op, Post):
            content = SlotContent(text=op.text, blocks=op.blocks)
            posted = await self._writes.post_once(op.op_id, op.channel, content, thread_ts, fence)
            await self._outbox.posted(op.op_id, posted.result)
        elif isinstance(op, Upload):
            await self._writes.upload_once(op, thread_ts, fence)
        await self._store.ack_entry(fence.lane, entry.entry_id)

    async def _sync(
        self, fence: Fence, entry: LaneEntry, op: SyncSlot, thread_ts: str | None
    ) -> None:
        slot = await self._store.read_slot(op.slot)
        if slot is None or slot.failed is not None:
            await self._store.ack_entry(fence.lane, entry.entry_id)
            return
        content = SlotContent.model_validate_json(slot.content)
        ts = (await self._store.op_record(op.slot)).done
        stale = ts is not None and slot.version > slot.synced
        if ts is None:
            posted = await self._writes.post_once(op.slot, op.channel, content, thread_ts, fence)
            await self._outbox.posted(op.slot, posted.result)
            # Found posted by an earlier attempt: it may show older content than this.
            ts, stale = posted.result, not posted.fresh
        if stale:
            await self._writes.edit(op.channel, ts, content, fence)
        await self._store.finish_slot_sync(
            fence.lane, entry.entry_id, op.slot, slot.version, entry.item
        )

    async def _thread_ts(self, op: AnyOp) -> str | None:
        if op.thread is None:
            return None
        parent = await self._store.op_record(op.thread)
        if parent.done is not None:
            return parent.done
        if parent.failed is not None:
            raise ThreadFailed(parent.failed)
        raise Waiting

    async def _wait_for_thread(self, lane: str, entry: LaneEntry, op: AnyOp) -> None:
        if entry.requeues >= MAX_REQUEUES:
            refusal = Refusal(
                "parent_missing", "the message it replies to was never posted", tell_thread=False
            )
            await self._dead.bury(lane, entry, op, refusal)
            return
        delay = min(REQUEUE_MAX_SECONDS, REQUEUE_BASE_SECONDS * 2**entry.requeues)
        await self._store.requeue_entry(
            lane, entry.entry_id, entry.item, entry.requeues + 1, time.time() + delay
        )

    async def _refused(
        self, lane: str, entry: LaneEntry, op: AnyOp, error: SlackApiError
    ) -> float | None:
        refusal = refusal_for(error)
        if refusal is not None:
            await self._dead.bury(lane, entry, op, refusal)
            return None
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        if error.response.status_code >= 500 or code in TRANSIENT_CODES:
            return self._retry_later(entry, code)
        return await self._unexplained(lane, entry, op, f"slack_{code}"[:40])

    async def _unexplained(self, lane: str, entry: LaneEntry, op: AnyOp, code: str) -> float | None:
        strikes = self._strikes[entry.entry_id] = self._strikes.get(entry.entry_id, 0) + 1
        if strikes >= MAX_UNEXPLAINED_FAILURES:
            self._forget(entry)
            reason = f"it failed {strikes} times ({code})"
            await self._dead.bury(lane, entry, op, Refusal("repeated_failure", reason))
            return None
        return self._retry_later(entry, code)

    def _forget(self, entry: LaneEntry) -> None:
        self._failures.pop(entry.entry_id, None)
        self._strikes.pop(entry.entry_id, None)

    def _retry_later(self, entry: LaneEntry, why: str) -> float:
        failures = self._failures[entry.entry_id] = self._failures.get(entry.entry_id, 0) + 1
        delay: float = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** min(failures - 1, 8))
        log.warning("a Slack write failed; retrying", entry=entry.entry_id, why=why, after=delay)
        return delay


TRANSIENT_CODES = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
