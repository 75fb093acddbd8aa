"""A real Node.js process with the agent loaded through --require, on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from lab.procs import free_port, running_process

HERE = Path(__file__).parent
REGISTER = HERE.parents[1] / "agent" / "register.js"
SERVICE = HERE / "hot_service.js"
TOKEN = "profiling-test-token-5f1e2d3c4b"


@dataclass(frozen=True)
class AgentProcess:
    port: int
    token: str
    script: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def line_of(self, marker: str) -> int:
        lines = self.script.read_text(encoding="utf-8").splitlines()
        return next(n for n, line in enumerate(lines, 1) if f"// {marker}" in line)


async def _wait_for_agent(url: str, token: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{url}/v1/status", headers=headers) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the agent at {url} did not answer within {within} s")


@contextlib.asynccontextmanager
async def agent_process(mode: str, log_dir: Path) -> AsyncIterator[AgentProcess]:
    """`hot_service.js` in `mode` (cpu, leak or idle) with the agent listening on a free port."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "TRIAGE_AGENT_TOKEN": TOKEN, "TRIAGE_AGENT_PORT": str(port)}
    argv = ["node", "--require", str(REGISTER), str(SERVICE), mode]
    async with running_process(f"agent-{mode}", argv, log_path=log_dir / f"{mode}.log", env=env):
        process = AgentProcess(port=port, token=TOKEN, script=SERVICE)
        await _wait_for_agent(process.url, TOKEN)
        yield process


@pytest.fixture
async def cpu_agent(tmp_path: Path) -> AsyncIterator[AgentProcess]:
    async with agent_process("cpu", tmp_path) as process:
        yield process


@pytest.fixture
async def leak_agent(tmp_path: Path) -> AsyncIterator[AgentProcess]:
    async with agent_process("leak", tmp_path) as process:
        yield process


@pytest.fixture
async def idle_agent(tmp_path: Path) -> AsyncIterator[AgentProcess]:
    async with agent_process("idle", tmp_path) as process:
        yield process


async def wait_until_capturing(session: aiohttp.ClientSession, agent: AgentProcess) -> None:
    """Until the agent reports a capture running (it answers its status meanwhile)."""
    headers = {"Authorization": f"Bearer {agent.token}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with session.get(f"{agent.url}/v1/status", headers=headers) as response:
            if (await response.json())["capturing"]:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the agent never started capturing")
