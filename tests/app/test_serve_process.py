"""`python -m bot serve` as a real process: it starts, answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import aiohttp

from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "the bot exited during start-up"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the bot never became healthy")


async def test_serve_starts_and_shuts_down_gracefully_on_sigterm(
    emulator: RunningEmulator,
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALERT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "SLACK_API_URL": emulator.url,
        "SLACK_RESPONSE_URL_ORIGINS": emulator.origin,
        "BOT_HTTP_HOST": "127.0.0.1",
        "BOT_HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_healthy(f"http://127.0.0.1:{port}/readyz", process)
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    logs = err.decode()
    assert process.returncode == 0, logs
    assert "in-memory state store" in logs
    for secret in (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN):
        assert secret not in logs
