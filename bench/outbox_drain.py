"""How fast a storm drains into Slack with 1, 2 and 3 replicas, against Slack's own pace.

    .venv/bin/python -m bench.outbox_drain

20 incidents over 4 channels: each fires (3 alerts in one notification) and then resolves, and
every notification goes to two replicas, as an Alertmanager HA pair sends it. Slack (the
emulator, answering 429 beyond its limits) takes about one post a second per channel and
`chat.update` at 50 a minute; so the ideal is the time the busiest channel needs for its posts
at one a second (and the edits at their tier, when they are the slower). The drain time runs
from the first notification to the last write Slack accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp

from bench.replicas import CHANNELS, bots, notification, private_redis, send, slack
from emulator.server import RunningEmulator

POST_INTERVAL = 1.0
EDITS_PER_MINUTE, EDIT_BURST = 50, 50
WRITES = ("chat.postMessage", "chat.update", "files.completeUploadExternal")


@dataclass(frozen=True)
class Drain:
    replicas: int
    seconds: float
    ideal: float
    posts: int
    edits: int
    limited: int

    def line(self) -> str:
        return (
            f"{self.replicas} replica(s): drained in {self.seconds:.1f} s, ideal {self.ideal:.1f} s"
            f" ({self.seconds / self.ideal:.2f}x); {self.posts} posts, {self.edits} edits, "
            f"{self.limited} answered 429"
        )


def settled(emulator: RunningEmulator, incidents: int) -> bool:
    """Every root shows its incident resolved, with the checklist and the resolution note."""
    roots = [m for channel in CHANNELS for m in emulator.state.channel_messages(channel)]
    resolved = [m for m in roots if m.text.startswith("[resolved]")]
    if len(roots) != incidents or len(resolved) != incidents:
        return False
    return all(
        len(emulator.state.thread_replies(root.channel, root.ts)) >= 2
        and any("cleared" in r.text for r in emulator.state.thread_replies(root.channel, root.ts))
        for root in roots
    )


def ideal_seconds(emulator: RunningEmulator, since: float) -> float:
    posts = Counter(
        call.channel
        for call in emulator.state.calls_to("chat.postMessage")
        if call.ok and call.at >= since
    )
    edits = sum(1 for c in emulator.state.calls_to("chat.update") if c.ok and c.at >= since)
    by_posts = max((count - 1) * POST_INTERVAL for count in posts.values())
    by_edits = max(0, edits - EDIT_BURST) * 60 / EDITS_PER_MINUTE
    return max(by_posts, by_edits)


async def one_run(replicas: int, incidents: int, alerts: int) -> Drain:
    async with (
        private_redis() as redis_url,
        slack() as emulator,
        bots(replicas, redis_url, emulator) as running,
        aiohttp.ClientSession() as s,
    ):
        started = time.time()
        for status in ("firing", "resolved"):
            await asyncio.gather(
                *(
                    send(s, running[(n + k) % replicas].url, notification(n, alerts, status))
                    for n in range(incidents)
                    for k in range(min(2, replicas))
                )
            )
        deadline = time.monotonic() + 300
        while not settled(emulator, incidents):
            if time.monotonic() > deadline:
                raise RuntimeError("the storm never drained")
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # a last edit may still be on its way
    writes = [c for c in emulator.state.calls if c.method in WRITES and c.at >= started]
    last = max(c.at for c in writes if c.ok)
    return Drain(
        replicas=replicas,
        seconds=last - started,
        ideal=ideal_seconds(emulator, started),
        posts=sum(1 for c in writes if c.method == "chat.postMessage" and c.ok),
        edits=sum(1 for c in writes if c.method == "chat.update" and c.ok),
        limited=sum(1 for c in writes if c.status == 429),
    )


async def main(incidents: int, alerts: int, replica_counts: list[int]) -> None:
    print(f"storm: {incidents} incidents over {len(CHANNELS)} channels, {alerts} alerts each")
    for count in replica_counts:
        print((await one_run(count, incidents, alerts)).line(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--alerts", type=int, default=3)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    arguments = parser.parse_args()
    asyncio.run(main(arguments.incidents, arguments.alerts, arguments.replicas))
