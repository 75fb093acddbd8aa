"""Readiness and metrics tell the truth about the outbox: its queue, its dead letters, and
whether this process's worker runs at all."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import aiohttp
import pytest

from bot.outbox.ops import Post
from bot.store import MemoryStore
from emulator.server import RunningEmulator
from tests.app.test_http import get_json
from tests.conftest import RunningBot, make_settings, start_bot
from tests.waiting import eventually


async def metrics_text(bot: RunningBot) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        return await response.text()


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in the metrics")


async def test_metrics_report_the_shared_queue_and_a_running_worker(
    emulator: RunningEmulator,
) -> None:
    store = MemoryStore()
    running, runner = await start_bot(make_settings(emulator), store)
    try:
        # Another replica holds this lane: its entries wait, and age.
        assert await store.claim_lane("C0HELDELSEWHERE", 60)
        for number in range(3):
            await store.enqueue(
                "C0HELDELSEWHERE",
                Post(op_id=f"p{number}", channel="C0HELDELSEWHERE", text="x").model_dump_json(),
            )
        await asyncio.sleep(0.3)
        text = await metrics_text(running)
    finally:
        await runner.cleanup()
    assert sample(text, "bot_outbox_pending_entries") == 3
    assert sample(text, "bot_outbox_oldest_entry_age_seconds") >= 0.25
    assert sample(text, "bot_outbox_worker_up") == 1
    assert sample(text, "bot_ready") == 1


async def test_dead_letters_are_named_in_readyz_and_counted_without_failing_it(
    emulator: RunningEmulator,
) -> None:
    store = MemoryStore()
    running, runner = await start_bot(make_settings(emulator), store)
    try:
        await running.wiring.outbox.send(Post(op_id="lost", channel="C0MISSING", text="x"))

        async def buried() -> bool:
            return bool(await store.dead_letters(1))

        await eventually(buried, 15)
        status, body = await get_json(f"{running.url}/readyz")
        text = await metrics_text(running)
        (record,) = await store.dead_letters(5)
    finally:
        await runner.cleanup()
    assert status == 200
    (note,) = cast(list[str], body["notes"])
    assert "1 Slack write(s) in the dead-letter list" in note
    assert "channel_not_found" in note
    assert sample(text, "bot_outbox_dead_letters") == 1
    assert 'bot_outbox_dead_lettered_total{reason="slack_channel_not_found"}' in text
    assert json.loads(record)["lane"] == "C0MISSING"


async def test_a_failing_worker_is_restarted_and_readyz_fails_while_it_is_down(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    settings = make_settings(emulator)
    broken = asyncio.Event()
    broken.set()
    real_lanes = store.lanes

    async def failing_lanes() -> list[str]:
        if broken.is_set():
            raise RuntimeError("a bug in the worker")
        return await real_lanes()

    monkeypatch.setattr(store, "lanes", failing_lanes)
    running, runner = await start_bot(settings, store)
    try:

        async def down() -> bool:
            status, body = await get_json(f"{running.url}/readyz")
            return status == 503 and "outbox worker is down" in str(body["reasons"])

        await eventually(down, 15)
        assert sample(await metrics_text(running), "bot_outbox_worker_up") == 0
        broken.clear()

        async def up() -> bool:
            status, _ = await get_json(f"{running.url}/readyz")
            return status == 200

        await eventually(up, 15)
        await running.wiring.outbox.send(Post(op_id="after", channel="C0GENERAL", text="back"))

        async def delivered() -> bool:
            return [m.text for m in emulator.state.channel_messages("C0GENERAL")] == ["back"]

        await eventually(delivered, 15)
        assert running.wiring.supervised_worker.restarts >= 1
    finally:
        await runner.cleanup()
