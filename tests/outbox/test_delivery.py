from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.outbox.channel_delivery import ChannelDelivery
from bot.outbox.post_once import PostOnce
from bot.outbox.slack_delivery import Deliveries, SlackDelivery
from bot.outbox.worker import OutboxWorker
from bot.slack.client import BotWebClient, ChannelPacer
from bot.store import Store
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN
from tests.incidents.test_service import alert, batch

CHANNEL = "C0INCIDENTS"
LEASE = 0.3


@dataclass
class Flow:
    service: IncidentService
    delivery: Deliveries
    worker: OutboxWorker
    store: Store

    async def drain(self, rounds: int = 40) -> None:
        """Run the worker until the outbox is empty (waiting out leases when needed)."""
        for _ in range(rounds):
            await self.worker.run_once()
            if await self.store.outbox_pending_count() == 0:
                return
            await asyncio.sleep(LEASE / 2)
        raise AssertionError("the outbox never emptied")


def build_flow(store: Store, emulator: RunningEmulator) -> Flow:
    repository = IncidentRepository(store)
    router = Router([ServiceRoute("checkout", {"job": "checkout"}, CHANNEL)], "C0GENERAL")
    client = BotWebClient(token=BOT_TOKEN, base_url=emulator.url, pacer=ChannelPacer(0.05))

    async def no_checklist(_incident: object) -> None:
        return None

    delivery = Deliveries(
        SlackDelivery(repository, client, no_checklist),
        ChannelDelivery(PostOnce(store, client), client),
    )
    worker = OutboxWorker(store, delivery.deliver, delivery.channel_of, lease_seconds=LEASE)
    return Flow(IncidentService(repository, router), delivery, worker, store)


@pytest.fixture
async def flow(any_store: Store, emulator: RunningEmulator) -> AsyncIterator[Flow]:
    return build_flow(any_store, emulator)


def roots(emulator: RunningEmulator) -> list[object]:
    return list(emulator.state.channel_messages(CHANNEL))


async def test_incident_gets_one_root_with_buttons_and_edits_in_place(
    flow: Flow, emulator: RunningEmulator
) -> None:
    await flow.service.accept(batch(alert(instance="a")))
    await flow.drain()
    await flow.service.accept(batch(alert(instance="b")))
    await flow.drain()
    messages = emulator.state.channel_messages(CHANNEL)
    assert len(messages) == 1
    root = messages[0]
    assert "HighLatency" in root.text
    assert len(root.edits) == 1
    assert "2 alert(s) firing" in str(root.blocks)
    actions = [b for b in root.blocks or [] if b["type"] == "actions"]
    assert {e["action_id"] for e in actions[0]["elements"]} == {
        "incident_ack",
        "incident_rerun_triage",
        "incident_silence_1h",
        "incident_resolve",
    }


async def test_resolution_edits_root_and_adds_a_thread_line(
    flow: Flow, emulator: RunningEmulator
) -> None:
    await flow.service.accept(batch(alert()))
    await flow.drain()
    await flow.service.accept(batch(alert(status="resolved")))
    await flow.drain()
    (root,) = emulator.state.channel_messages(CHANNEL)
    assert "[resolved]" in root.text
    replies = emulator.state.thread_replies(CHANNEL, root.ts)
    assert [r.text for r in replies] == [
        "Every alert of this incident has cleared; marked resolved."
    ]
    assert not any(b["type"] == "actions" for b in root.blocks or [])


async def test_crash_between_posting_and_recording_never_posts_a_second_root(
    flow: Flow, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = flow.store
    real_set_value = store.set_value
    crashes: list[str] = []

    async def crash_once(key: str, value: str, ttl_seconds: float | None) -> None:
        if key.startswith("slack-ts:") and not crashes:
            crashes.append(key)
            raise RuntimeError("process killed after Slack accepted the post")
        await real_set_value(key, value, ttl_seconds)

    monkeypatch.setattr(store, "set_value", crash_once)
    await flow.service.accept(batch(alert()))
    await flow.service.accept(batch(alert(instance="b")))
    await flow.drain()
    assert crashes
    messages = emulator.state.channel_messages(CHANNEL)
    assert len(messages) == 1
    (incident_id,) = await store.open_incident_ids()
    incident = await flow.service.repository.get(incident_id)
    assert incident is not None
    assert incident.slack.root_ts == messages[0].ts
    assert "2 alert(s) firing" in str(messages[0].blocks)
    history_calls = emulator.state.calls_to("conversations.history")
    assert len(history_calls) == 1


async def test_worker_restart_resumes_the_outbox(
    any_store: Store, emulator: RunningEmulator
) -> None:
    first = build_flow(any_store, emulator)
    await first.service.accept(batch(alert()))
    claimed = await any_store.outbox_claim("dead-worker", LEASE, 10)
    assert claimed  # leased by a worker that then died without acknowledging
    second = build_flow(any_store, emulator)
    await second.drain()
    assert len(emulator.state.channel_messages(CHANNEL)) == 1


async def test_slack_errors_are_retried_until_the_post_lands(
    flow: Flow, emulator: RunningEmulator
) -> None:
    emulator.state.faults.fail_next("chat.postMessage", count=6, status=500)
    await flow.service.accept(batch(alert()))
    await flow.drain()
    assert len(emulator.state.channel_messages(CHANNEL)) == 1


async def test_a_channel_slack_refuses_for_good_is_dropped_not_retried_forever(
    any_store: Store, emulator: RunningEmulator
) -> None:
    flow = build_flow(any_store, emulator)
    flow.service = IncidentService(
        flow.service.repository, Router([], default_channel="C0DOESNOTEXIST")
    )
    await flow.service.accept(batch(alert()))
    await flow.drain()
    errors = [c.error for c in emulator.state.calls_to("chat.postMessage")]
    assert errors == ["channel_not_found"]


async def test_channel_messages_post_once_and_thread_under_their_parent(
    flow: Flow, emulator: RunningEmulator
) -> None:
    from bot.outbox.ops import ChannelMessage

    reply = ChannelMessage(channel=CHANNEL, key="w48:svc", text="per service", thread_of="w48")
    root = ChannelMessage(channel=CHANNEL, key="w48", text="weekly digest")
    for op in (reply, root, root, reply):  # the reply is queued before its parent exists
        await store_push(flow.store, op)
    await flow.drain()
    (posted,) = emulator.state.channel_messages(CHANNEL)
    assert posted.text == "weekly digest"
    replies = emulator.state.thread_replies(CHANNEL, posted.ts)
    assert [r.text for r in replies] == ["per service"]


async def store_push(store: Store, op: object) -> None:
    from bot.outbox.ops import encode

    await store.outbox_push(encode(op))  # type: ignore[arg-type]
