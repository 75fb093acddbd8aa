"""The delivery side of one replica, built like `bot.wiring` does, pointed at the emulator."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.incidents.thread import IncidentThread
from bot.outbox.dead_letters import DeadLetters
from bot.outbox.delivery import Delivery
from bot.outbox.ops import AnyOp, decode
from bot.outbox.pace import Pacer, PaceRules
from bot.outbox.queue import Outbox
from bot.outbox.worker import OutboxWorker, consumer_name
from bot.outbox.writes import SlackWrites
from bot.slack.client import make_outbox_client
from bot.store import Store
from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN

CHANNEL = "C0INCIDENTS"
# Faster than Slack so tests run quickly; the emulator's limits are relaxed to match.
QUICK_PACE = PaceRules(post_interval=0.05, post_burst=1, edit_interval=0.05, edit_burst=1)


@dataclass
class Replica:
    store: Store
    outbox: Outbox
    worker: OutboxWorker
    repository: IncidentRepository
    thread: IncidentThread
    service: IncidentService
    writes: SlackWrites

    async def drain(self, within: float = 20.0) -> None:
        assert await self.worker.drain(within), "the outbox never emptied"


def build_replica(
    store: Store,
    emulator: RunningEmulator,
    *,
    pace: PaceRules = QUICK_PACE,
    lease_seconds: float = 1.0,
    request_timeout: float = 2.0,
    default_channel: str = "C0GENERAL",
    linger_seconds: float = 0.05,
) -> Replica:
    client = make_outbox_client(BOT_TOKEN, emulator.url)
    client.timeout = int(request_timeout)
    outbox = Outbox(store)
    consumer = consumer_name()
    writes = SlackWrites(
        client, store, Pacer(store, pace), consumer, request_timeout=request_timeout
    )
    delivery = Delivery(store, writes, outbox, DeadLetters(store, outbox))
    worker = OutboxWorker(
        store,
        delivery,
        consumer=consumer,
        lease_seconds=lease_seconds,
        linger_seconds=linger_seconds,
    )
    outbox.on_enqueue(worker.nudge)
    repository = IncidentRepository(store)
    outbox.when_posted(repository.remember_root)
    thread = IncidentThread(outbox)
    router = Router([ServiceRoute("checkout", {"job": "checkout"}, CHANNEL)], default_channel)
    service = IncidentService(repository, router, thread)
    return Replica(store, outbox, worker, repository, thread, service, writes)


async def queued(store: Store) -> list[AnyOp]:
    return [
        decode(entry.item)
        for lane in await store.lanes()
        for entry in await store.peek_lane(lane, 10_000)
    ]
