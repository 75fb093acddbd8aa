"""How long a slow client can hold one of the bot's connections, with the default limits.

    .venv/bin/python -m bench.slow_clients [--clients 200]

`--clients` connections send their request head a byte a second, as many more send a complete
head and then their body a byte a second, while /healthz is asked twenty times a second. It
prints when the slow connections were cut off and /healthz latency meanwhile. The clients share
the bot's event loop; each costs one small write a second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.app import create_app
from bot.config import load_config
from bot.http.server import ServerLimits, start_site
from bot.logs import configure_logging
from bot.settings import Settings
from bot.store import MemoryStore
from bot.wiring import build_wiring
from emulator.server import start_emulator

TOKEN = "bench-webhook-token"
BOT_TOKEN = "xoxb-bench-token"
CATALOG = "defaults: {channel: C0INCIDENTS}\nservices: {}\n"


async def hold(port: int, head: bytes, trickle: bytes) -> float:
    """Send `head` at once, then `trickle` a byte a second; seconds until the bot hung up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)

    async def drip() -> None:
        for byte in trickle:
            writer.write(bytes([byte]))
            await asyncio.sleep(1.0)

    dripping = asyncio.create_task(drip())
    try:
        while await reader.read(4096):
            pass
    except ConnectionError:
        pass
    dripping.cancel()
    writer.close()
    return time.monotonic() - started


async def healthz_latencies(url: str, until: asyncio.Event) -> list[float]:
    took: list[float] = []
    async with aiohttp.ClientSession() as session:
        while not until.is_set():
            started = time.monotonic()
            async with session.get(f"{url}/healthz") as response:
                await response.read()
            took.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return took


async def main(clients: int) -> None:
    configure_logging("ERROR", "console")
    async with await start_emulator(bot_token=BOT_TOKEN) as slack:
        with tempfile.TemporaryDirectory(prefix="bench-") as config_dir:
            (Path(config_dir) / "services.yaml").write_text(CATALOG)
            settings = Settings(
                _env_file=None,
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_SIGNING_SECRET="bench-signing-secret",
                ALERT_WEBHOOK_TOKEN=TOKEN,
                SLACK_API_URL=slack.url,
                BOT_CONFIG_DIR=config_dir,
                LOG_LEVEL="ERROR",
            )
            limits = ServerLimits.from_settings(settings)
            app = create_app(build_wiring(settings, MemoryStore(), load_config(settings)))
            runner, site = await start_site(app, "127.0.0.1", 0, limits)
            try:
                await measure(site.bound_port or 0, clients, limits)
            finally:
                await runner.cleanup()


async def measure(port: int, clients: int, limits: ServerLimits) -> None:
    head = b"POST /alerts/generic HTTP/1.1\r\nHost: bot\r\nX-Pad: " + b"a" * 200
    full_head = (
        b"POST /alerts/generic HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 4000\r\n\r\n".encode()
    )
    done = asyncio.Event()
    latencies = asyncio.create_task(healthz_latencies(f"http://127.0.0.1:{port}", done))
    slow_heads = [hold(port, b"", head) for _ in range(clients)]
    slow_bodies = [hold(port, full_head, b" " * 4000) for _ in range(clients)]
    held = await asyncio.gather(*slow_heads, *slow_bodies)
    done.set()
    took = sorted(await latencies)
    heads, bodies = held[:clients], held[clients:]
    print(f"limits: head {limits.header_timeout:g} s, body {limits.body_timeout:g} s")
    print(f"{clients} clients sending the head a byte a second: cut off after {_span(heads)}")
    print(f"{clients} clients sending the body a byte a second: cut off after {_span(bodies)}")
    p99 = took[int(len(took) * 0.99) - 1] if took else float("nan")
    print(
        f"/healthz meanwhile: {len(took)} requests, p50 {statistics.median(took) * 1000:.1f} ms,"
        f" p99 {p99 * 1000:.1f} ms, max {took[-1] * 1000:.1f} ms"
    )


def _span(seconds: list[float]) -> str:
    return f"{min(seconds):.1f}–{max(seconds):.1f} s"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    asyncio.run(main(parser.parse_args().clients))
