"""The one way into the outbox: queue writes, or set what a message slot should show.

    outbox = Outbox(store)
    await outbox.send(Post(op_id="note:inc-1:7", channel="C0INCIDENTS", text="Resolved.",
                           thread="incident:inc-1:root", label="a thread note"))
    await outbox.show("incident:inc-1:root", "C0INCIDENTS", text, blocks, label="the root")

`show` stores the content at once and queues one sync of the slot unless one is pending, so a
burst of changes to one message costs one queued entry and at most one edit per delivery.
What Slack assigns (a message's ts) comes back through `when_posted` listeners.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from bot.outbox.ops import Post, SlotContent, SyncSlot, Upload, encode
from bot.store.outbox_contract import OutboxStore

log = structlog.get_logger(__name__)

PostedListener = Callable[[str, str], Awaitable[None]]


class Outbox:
    def __init__(self, store: OutboxStore) -> None:
        self._store = store
        self._wakers: list[Callable[[], None]] = []
        self._posted: list[PostedListener] = []

    def on_enqueue(self, waker: Callable[[], None]) -> None:
        """Call `waker` whenever something was queued (the local worker looks at once)."""
        self._wakers.append(waker)

    def when_posted(self, listener: PostedListener) -> None:
        """Call `listener(op_id, ts)` once a message was posted (or found posted)."""
        self._posted.append(listener)

    async def send(self, *ops: Post | Upload) -> None:
        for op in ops:
            await self._store.enqueue(op.channel, encode(op))
        if ops:
            self._wake()

    async def show(
        self,
        slot: str,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        *,
        thread: str | None = None,
        label: str = "a message",
    ) -> None:
        content = SlotContent(text=text, blocks=list(blocks)).model_dump_json()
        sync = SyncSlot(slot=slot, channel=channel, thread=thread, label=label)
        if await self._store.write_slot(channel, slot, content, encode(sync)):
            self._wake()

    async def posted(self, op_id: str, ts: str) -> None:
        """Tell the listeners what Slack assigned; a failing listener is logged, not fatal."""
        for listener in self._posted:
            try:
                await listener(op_id, ts)
            except Exception:
                log.exception("a posted-message listener failed", op=op_id)

    def _wake(self) -> None:
        for waker in self._wakers:
            waker()
