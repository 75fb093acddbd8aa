"""What the agent costs the service it lives in.

    .venv/bin/python -m bench.agent_cost [--seconds 20] [--rounds 3]

1. An idle service (a timer, nothing else) with and without the agent loaded through
   `--require agent/register.js`: CPU seconds used over `--seconds` and RSS at the end, read
   from /proc, in alternating rounds; the target is a difference within the noise between
   rounds of the same kind.
2. A loaded service (event loop about half busy in 4 ms slices): its event-loop delay over
   5 s without a capture, then over the 5 s of a CPU profile taken through the agent (the
   reduction of the profile included, as it runs on the service's loop at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from lab.procs import free_port, running_process

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "bench" / "agent_cost_service.js"
REGISTER = ROOT / "agent" / "register.js"
TOKEN = "bench-agent-token-0123456789"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE / (1024 * 1024)


@asynccontextmanager
async def service(mode: str, *, agent: bool, log_dir: Path) -> AsyncIterator[tuple[int, int, int]]:
    """(pid, port of /lag, agent port) of a running bench service."""
    port, agent_port = free_port(), free_port()
    argv = ["node", *(["--require", str(REGISTER)] if agent else []), str(SERVICE), mode, str(port)]
    env = {
        "PATH": os.environ["PATH"],
        "TRIAGE_AGENT_TOKEN": TOKEN,
        "TRIAGE_AGENT_PORT": str(agent_port),
    }
    log = log_dir / f"{mode}-{agent}-{port}.log"
    async with running_process(f"bench-{mode}", argv, log_path=log, env=env) as proc:
        await _ready(f"http://127.0.0.1:{port}/")
        yield proc.process.pid, port, agent_port


async def _ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


async def idle_cost(seconds: float, log_dir: Path, *, agent: bool) -> tuple[float, float]:
    """CPU seconds over `seconds` and RSS (MiB) at the end, after a 3 s settling time."""
    async with service("idle", agent=agent, log_dir=log_dir) as (pid, _, _):
        return await _measure(pid, seconds)


async def _measure(pid: int, seconds: float) -> tuple[float, float]:
    await asyncio.sleep(3)
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return cpu_seconds(pid) - before, rss_mib(pid)


async def lag(session: aiohttp.ClientSession, port: int) -> dict[str, float]:
    async with session.get(f"http://127.0.0.1:{port}/") as response:
        return dict(await response.json(content_type=None))


async def profile_lag(log_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Event-loop delay over 5 s without, then with, a 5 s CPU profile."""
    async with (
        service("loaded", agent=True, log_dir=log_dir) as (_, port, agent_port),
        aiohttp.ClientSession() as session,
    ):
        await asyncio.sleep(3)
        await lag(session, port)
        await asyncio.sleep(5)
        quiet = await lag(session, port)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        url = f"http://127.0.0.1:{agent_port}/v1/cpu-profile?seconds=5"
        async with session.post(url, headers=headers) as response:
            assert response.status == 200, await response.text()
            await response.read()
        return quiet, await lag(session, port)


def shown(delay: dict[str, float]) -> str:
    return f"p50 {delay['p50']}  p99 {delay['p99']}  max {delay['max']}"


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


async def main(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        without: list[tuple[float, float]] = []
        with_agent: list[tuple[float, float]] = []
        for _ in range(rounds):
            without.append(await idle_cost(seconds, log_dir, agent=False))
            with_agent.append(await idle_cost(seconds, log_dir, agent=True))
        print(f"idle service, {rounds} rounds of {seconds:g} s each")
        print(f"  CPU s without agent: {spread([c for c, _ in without])}")
        print(f"  CPU s with agent:    {spread([c for c, _ in with_agent])}")
        print(f"  RSS MiB without:     {spread([r for _, r in without])}")
        print(f"  RSS MiB with agent:  {spread([r for _, r in with_agent])}")
        quiet, profiled = await profile_lag(log_dir)
        print("loaded service (event loop ~50 % busy), event-loop delay in ms over 5 s")
        print(f"  without a capture:        {shown(quiet)}")
        print(f"  during a 5 s CPU profile: {shown(profiled)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.rounds))
