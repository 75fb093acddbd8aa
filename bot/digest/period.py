"""Which week a digest covers, when it is due, and the keys that make it post once.

A channel's digest belongs to an ISO week in the channel's time zone. It is due from the first
time its cron schedule fires in that week (a Monday-to-Friday schedule still means one digest),
and it covers the seven days before that moment, so a late catch-up run reports the same week.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.catalog import Digest

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DigestPeriod:
    """One channel's digest for one ISO week: the seven days up to `end`."""

    channel: str
    week: str  # "2026-W23"
    end: datetime
    manual: str | None = None  # set for an on-demand post, so it never stands in for the weekly one

    @property
    def start(self) -> datetime:
        return self.end - WEEK

    @property
    def key(self) -> str:
        base = f"digest:{self.channel}:{self.week}"
        return f"{base}:manual-{self.manual}" if self.manual else base

    def service_key(self, service: str) -> str:
        return f"{self.key}:{service}"

    def chart_key(self, service: str) -> str:
        return f"{self.key}:{service}:chart"


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def trigger_for(schedule: Digest) -> CronTrigger:
    return CronTrigger.from_crontab(schedule.cron, timezone=zoneinfo.ZoneInfo(schedule.timezone))


def first_run_in_week(schedule: Digest, now: datetime) -> datetime | None:
    """The first time the schedule fires in the ISO week holding `now` (None if it never does)."""
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.isoweekday() - 1)
    week_start = datetime.combine(monday, time(0), tzinfo=zone)
    fire: datetime | None = trigger_for(schedule).get_next_fire_time(None, week_start)
    if fire is None or iso_week(fire.astimezone(zone)) != iso_week(local):
        return None
    return fire


def due_period(channel: str, schedule: Digest, now: datetime) -> DigestPeriod | None:
    """This week's digest if its scheduled time has come, else None."""
    fire = first_run_in_week(schedule, now)
    if fire is None or fire > now:
        return None
    local = fire.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    return DigestPeriod(channel, iso_week(local), fire)


def manual_period(channel: str, schedule: Digest, now: datetime) -> DigestPeriod:
    """The seven days up to `now`, for a digest asked for by hand."""
    local = now.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    return DigestPeriod(channel, iso_week(local), now, manual=stamp)
