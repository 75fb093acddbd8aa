"""Exactly one digest per channel and ISO week across replicas and restarts, on a real Redis."""

from __future__ import annotations

import asyncio
import zoneinfo
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.triggers.cron import CronTrigger

from bot.catalog import Catalog, parse_catalog
from bot.digest.guard import DigestGuard, DigestOutcome
from bot.digest.period import DigestPeriod, due_period
from bot.digest.scheduler import DigestScheduler
from bot.outbox.queue import Outbox
from bot.store import RedisStore, StoreUnavailable
from tests.digest.conftest import FakeComposer, SettableClock, SharedRedis, top_messages
from tests.waiting import eventually

pytestmark = pytest.mark.redis

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TEAM, PAYMENTS, IDLE = "C0TEAM0001", "C0PAYMENTS1", "C0NOSERVICE"
CATALOG = f"""
defaults:
  channel: {TEAM}
  digest: {{cron: "0 9 * * MON", timezone: Europe/Berlin}}
channels:
  {PAYMENTS}:
    digest: {{cron: "30 8 * * MON-FRI", timezone: UTC}}
  {IDLE}:
    digest: {{cron: "0 7 * * TUE"}}
services:
  checkout: {{selector: {{job: checkout}}}}
  ledger: {{selector: {{job: ledger}}}}
  payments: {{selector: {{job: payments}}, channel: {PAYMENTS}}}
"""
# Monday 1 June 2026 is in ISO week 23.
MONDAY_9_BERLIN = datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN)


def catalog() -> Catalog:
    return parse_catalog(CATALOG)


def replicas(
    shared: SharedRedis, composer: FakeComposer, clock: SettableClock, n: int = 3
) -> list[DigestScheduler]:
    return [DigestScheduler(catalog(), shared.replica(), composer, clock=clock) for _ in range(n)]


async def stop_all(schedulers: list[DigestScheduler]) -> None:
    await asyncio.gather(*(s.stop() for s in schedulers))


async def test_jobs_one_per_channel_with_services_and_its_schedule(
    shared_redis: SharedRedis,
) -> None:
    scheduler = DigestScheduler(
        catalog(), shared_redis.replica(), FakeComposer(), clock=SettableClock(MONDAY_9_BERLIN)
    )
    await scheduler.start()
    try:
        assert scheduler.scheduler is not None
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {f"digest:{TEAM}", f"digest:{PAYMENTS}", "digest:recheck"}
        team = jobs[f"digest:{TEAM}"]
        assert isinstance(team.trigger, CronTrigger)
        assert str(team.trigger.timezone) == "Europe/Berlin"
        assert team.misfire_grace_time >= 3600
        assert team.coalesce is True
        assert team.next_run_time.weekday() == 0
        assert (team.next_run_time.hour, team.next_run_time.minute) == (9, 0)
        assert str(jobs[f"digest:{PAYMENTS}"].trigger.timezone) == "UTC"
    finally:
        await scheduler.stop()


async def test_three_replicas_firing_at_the_scheduled_time_enqueue_one_digest(
    shared_redis: SharedRedis,
) -> None:
    clock = SettableClock(datetime(2026, 6, 1, 8, 59, tzinfo=BERLIN))  # not due yet at start
    composer = FakeComposer()
    schedulers = replicas(shared_redis, composer, clock)
    await asyncio.gather(*(s.start() for s in schedulers))
    await asyncio.gather(*(s.wait_idle() for s in schedulers))
    assert [op for op in await shared_redis.outbox() if op.channel == TEAM] == []
    assert composer.calls == []

    clock.now = MONDAY_9_BERLIN
    fired: list[str] = []
    try:
        for scheduler in schedulers:  # every replica's cron job fires now, through APScheduler
            assert scheduler.scheduler is not None
            scheduler.scheduler.add_listener(
                lambda event: fired.append(event.job_id), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
            )
            scheduler.scheduler.modify_job(f"digest:{TEAM}", next_run_time=datetime.now(UTC))
        await eventually(lambda: fired.count(f"digest:{TEAM}") == len(schedulers), 5)
        await asyncio.gather(*(s.wait_idle() for s in schedulers))
    finally:
        await stop_all(schedulers)

    team_ops = [op for op in await shared_redis.outbox() if op.channel == TEAM]
    tops = top_messages(team_ops)
    assert [op.op_id for op in tops] == [f"digest:{TEAM}:2026-W23"]
    assert len(team_ops) == 3  # the top message and one reply per service, once
    assert [p.channel for p in composer.calls].count(TEAM) == 1


async def was_in_service_at(shared_redis: SharedRedis, when: datetime) -> None:
    """A replica that ran before the scheduled time (nothing was due yet), then went away."""
    scheduler = DigestScheduler(
        catalog(), shared_redis.replica(), FakeComposer(), clock=SettableClock(when)
    )
    await scheduler.start()
    await scheduler.wait_idle()
    await scheduler.stop()


async def test_three_replicas_starting_after_the_schedule_catch_up_once(
    shared_redis: SharedRedis,
) -> None:
    await was_in_service_at(shared_redis, datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN))
    composer = FakeComposer()
    late_morning = datetime(2026, 6, 1, 11, 0, tzinfo=BERLIN)  # both channels are due
    schedulers = replicas(shared_redis, composer, SettableClock(late_morning))
    try:
        await asyncio.gather(*(s.start() for s in schedulers))
        await asyncio.gather(*(s.wait_idle() for s in schedulers))
    finally:
        await stop_all(schedulers)
    tops = top_messages(await shared_redis.outbox())
    assert sorted(op.op_id for op in tops) == [
        f"digest:{PAYMENTS}:2026-W23",
        f"digest:{TEAM}:2026-W23",
    ]
    assert len(composer.calls) == 2


async def test_restart_after_a_missed_schedule_enqueues_it_once(shared_redis: SharedRedis) -> None:
    await was_in_service_at(shared_redis, datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN))
    clock = SettableClock(datetime(2026, 6, 1, 13, 0, tzinfo=BERLIN))  # down at 09:00
    composer = FakeComposer()
    for _ in range(3):  # start, stop, start again ... as a crash-looping replica would
        scheduler = DigestScheduler(catalog(), shared_redis.replica(), composer, clock=clock)
        await scheduler.start()
        await scheduler.wait_idle()
        await scheduler.stop()
    tops = [op for op in top_messages(await shared_redis.outbox()) if op.channel == TEAM]
    assert [op.op_id for op in tops] == [f"digest:{TEAM}:2026-W23"]
    assert [p.channel for p in composer.calls].count(TEAM) == 1
    team_period = next(p for p in composer.calls if p.channel == TEAM)
    assert team_period.end == MONDAY_9_BERLIN  # the week up to the scheduled time


async def test_a_later_run_in_the_same_iso_week_does_not_post_again(
    shared_redis: SharedRedis,
) -> None:
    composer = FakeComposer()
    clock = SettableClock(datetime(2026, 6, 1, 8, 30, tzinfo=UTC))
    scheduler = DigestScheduler(catalog(), shared_redis.replica(), composer, clock=clock)
    assert await scheduler.run_channel(PAYMENTS) is DigestOutcome.SENT
    clock.now = datetime(2026, 6, 5, 8, 30, tzinfo=UTC)  # the Friday run of MON-FRI
    assert await scheduler.run_channel(PAYMENTS) is DigestOutcome.ALREADY_SENT
    clock.now = datetime(2026, 6, 8, 8, 30, tzinfo=UTC)  # next Monday: a new week
    assert await scheduler.run_channel(PAYMENTS) is DigestOutcome.SENT
    weeks = [op.op_id for op in top_messages(await shared_redis.outbox())]
    assert weeks == [f"digest:{PAYMENTS}:2026-W23", f"digest:{PAYMENTS}:2026-W24"]


async def test_a_new_install_waits_for_the_next_scheduled_time(
    shared_redis: SharedRedis,
) -> None:
    composer = FakeComposer()
    clock = SettableClock(datetime(2026, 6, 3, 11, 0, tzinfo=BERLIN))  # first start: Wednesday
    scheduler = DigestScheduler(catalog(), shared_redis.replica(), composer, clock=clock)
    assert await scheduler.run_channel(TEAM) is None
    clock.now = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)  # next Monday, on time
    assert await scheduler.run_channel(TEAM) is DigestOutcome.SENT
    tops = [op.op_id for op in top_messages(await shared_redis.outbox()) if op.channel == TEAM]
    assert tops == [f"digest:{TEAM}:2026-W24"]


async def test_nothing_is_sent_before_the_scheduled_time(shared_redis: SharedRedis) -> None:
    composer = FakeComposer()
    clock = SettableClock(datetime(2026, 6, 1, 8, 0, tzinfo=BERLIN))
    scheduler = DigestScheduler(catalog(), shared_redis.replica(), composer, clock=clock)
    assert await scheduler.run_channel(TEAM) is None
    assert composer.calls == []


class FailingPushes(RedisStore):
    async def enqueue(self, lane: str, item: str) -> str:
        raise StoreUnavailable("Redis went away")


async def test_failed_enqueue_releases_the_guard_so_a_retry_sends(
    shared_redis: SharedRedis,
) -> None:
    period = due_period(TEAM, catalog().digest_for(TEAM), MONDAY_9_BERLIN)
    assert isinstance(period, DigestPeriod)
    broken = FailingPushes(shared_redis.replica()._redis, shared_redis.keys)
    assert await DigestGuard(broken).run_once(period, FakeComposer()) is DigestOutcome.FAILED
    wakes: list[str] = []
    replica = shared_redis.replica()
    outbox = Outbox(replica)
    outbox.on_enqueue(lambda: wakes.append("wake"))
    healthy = DigestGuard(replica, outbox=outbox)
    assert not await healthy.is_sent(period)
    assert await healthy.run_once(period, FakeComposer()) is DigestOutcome.SENT
    assert wakes == ["wake"]
    assert await healthy.is_sent(period)
    assert await healthy.run_once(period, FakeComposer()) is DigestOutcome.ALREADY_SENT


async def test_a_build_that_raises_leaves_the_week_open(shared_redis: SharedRedis) -> None:
    period = due_period(TEAM, catalog().digest_for(TEAM), MONDAY_9_BERLIN)
    assert isinstance(period, DigestPeriod)

    async def broken(_: DigestPeriod) -> list[object]:
        raise RuntimeError("Prometheus is down")

    guard = DigestGuard(shared_redis.replica())
    with pytest.raises(RuntimeError):
        await guard.run_once(period, broken)  # type: ignore[arg-type]
    assert await guard.run_once(period, FakeComposer()) is DigestOutcome.SENT
