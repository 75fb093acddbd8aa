"""Memory of one replica through a long alert storm: RSS at the start and the end of a soak.

    .venv/bin/python -m bench.soak_rss

100,000 alerts reach one `python -m bot serve` (on a private Redis) in notifications of 50
alerts for 50 incidents over 4 channels, 8 at a time, while the outbox posts to the Slack
emulator at Slack's pace. RSS is read from /proc before the load, after a warm-up of 5 % of it
(code paths, connection pools and caches filled once), and at the end; the target is at most
10 % growth from the warm-up to the end. Firing sets live in Redis, so the bot's memory should
not follow the number of alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from bench.replicas import bots, notification, private_redis, send, slack

GROUPS = 50
PER_NOTIFICATION = 50
CONCURRENCY = 8


def payloads(alerts: int) -> list[dict[str, object]]:
    """Growing groups: notification k of a group carries its alerts k*50 .. k*50+49, as
    Alertmanager sends the new alerts of a group as they fire."""
    bodies = []
    for number in range(alerts // PER_NOTIFICATION):
        group, wave = number % GROUPS, number // GROUPS
        payload = notification(group, PER_NOTIFICATION)
        for index, alert in enumerate(payload["alerts"]):
            serial = wave * PER_NOTIFICATION + index
            alert["labels"]["instance"] = f"pod-{serial}"
            alert["fingerprint"] = f"{group:06x}{serial:08x}"
        bodies.append(payload)
    return bodies


async def pump(session: aiohttp.ClientSession, url: str, bodies: list[dict[str, object]]) -> None:
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            await send(session, url, queue.pop())

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def main(alerts: int) -> None:
    bodies = payloads(alerts)
    warm_up = len(bodies) // 20
    async with (
        private_redis() as redis_url,
        slack() as emulator,
        bots(1, redis_url, emulator) as (bot,),
        aiohttp.ClientSession() as session,
    ):
        idle = bot.rss_bytes()
        await pump(session, bot.url, bodies[:warm_up])
        started_rss, started = bot.rss_bytes(), time.monotonic()
        await pump(session, bot.url, bodies[warm_up:])
        elapsed = time.monotonic() - started
        await asyncio.sleep(2)
        ended_rss = bot.rss_bytes()
    mib = 1024 * 1024
    growth = (ended_rss - started_rss) / started_rss
    print(f"soak: {alerts:,} alerts in {len(bodies):,} notifications for {GROUPS} incidents")
    print(
        f"RSS idle {idle / mib:.1f} MiB; after warm-up ({warm_up * PER_NOTIFICATION:,} alerts) "
        f"{started_rss / mib:.1f} MiB; at the end {ended_rss / mib:.1f} MiB: "
        f"{growth:+.1%} over {alerts - warm_up * PER_NOTIFICATION:,} alerts "
        f"({(len(bodies) - warm_up) / elapsed:,.0f} notifications/s)"
    )
    posts = sum(1 for c in emulator.state.calls_to("chat.postMessage") if c.ok)
    print(f"Slack calls during the soak: {posts} posts, {len(emulator.state.calls)} calls in all")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().alerts))
