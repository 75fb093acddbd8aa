"""Start a real Prometheus (Debian's /usr/bin/prometheus) and tiny /metrics servers for tests.

    async with serve_exposition(fixture_text("sample_promclient.txt")) as target:
        async with run_prometheus({"checkout": [target]}) as prom:
            await prom.wait_for_series('up{job="checkout"} == 1')
            ...  # query prom.url

Prometheus listens on a free 127.0.0.1 port, keeps its data in a temporary directory, scrapes
every target each second, and is stopped and cleaned up however the block exits; it is started
the way the lab starts it (`lab.monitoring.prometheus_process`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from lab.monitoring import prometheus_process
from lab.monitoring import scrape_config as lab_scrape_config
from lab.packages import PROMETHEUS_BINARY
from tests.waiting import eventually

FIXTURES = Path(__file__).parent / "fixtures" / "metrics"
EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PrometheusStartError(RuntimeError):
    """Prometheus did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


_SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
_TYPE_LINE = re.compile(r"^# TYPE (\S+) (counter|histogram|summary)$", flags=re.MULTILINE)
_GROWING_SUFFIXES = {"counter": ("", "_total"), "histogram": ("_bucket", "_sum", "_count")}


def growing_counters(text: str, per_second: float = 0.1) -> Callable[[], str]:
    """An exposition whose counters and histograms grow by `per_second` of their value a second.

    Every counter, `_count`, `_sum` and `_bucket` is scaled by the same factor, so rates are
    `value * per_second` while ratios and histogram quantiles stay those of the static text.
    Gauges (even prom-client's `nodejs_active_handles_total`) keep their values.
    """
    growing = {
        family + suffix
        for family, kind in _TYPE_LINE.findall(text)
        for suffix in _GROWING_SUFFIXES.get(kind, ("_sum", "_count"))
    }
    started = time.monotonic()

    def render() -> str:
        factor = 1 + (time.monotonic() - started) * per_second
        return "\n".join(_scaled(line, factor, growing) for line in text.splitlines()) + "\n"

    return render


def _scaled(line: str, factor: float, growing: set[str]) -> str:
    match = _SAMPLE_LINE.match(line)
    if not match or match.group(1) not in growing:
        return line
    name, labels, value = match.groups()
    return f"{name}{labels or ''} {float(value) * factor!r}"


def prometheus_available() -> bool:
    return PROMETHEUS_BINARY.exists()


@contextlib.asynccontextmanager
async def serve_exposition(body: str | Callable[[], str]) -> AsyncIterator[str]:
    """Serve `body` (or what the callable returns on each scrape) at /metrics; yields host:port."""

    async def metrics(_request: web.Request) -> web.Response:
        text = body() if callable(body) else body
        return web.Response(body=text.encode(), headers={"Content-Type": EXPOSITION_CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    async with serve_app(app) as address:
        yield address


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Run an aiohttp app on a free 127.0.0.1 port; yields host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()


@dataclass(frozen=True)
class PrometheusStack:
    url: str
    data_dir: Path

    async def wait_for_series(self, expr: str, within: float = 20.0) -> None:
        """Wait until the instant query `expr` returns at least one sample."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

            async def answered() -> bool:
                async with session.post(f"{self.url}/api/v1/query", data={"query": expr}) as reply:
                    payload = await reply.json()
                return payload.get("status") == "success" and bool(payload["data"]["result"])

            await eventually(answered, within, every=0.25, what=f"a sample for {expr}")

    async def wait_for_scrapes(self, job: str, count: int, within: float = 20.0) -> None:
        """Wait until every target of `job` has been scraped `count` times (rates and peaks
        need several)."""
        expr = f'min(count_over_time(up{{job="{job}"}}[10m])) >= {count}'
        await self.wait_for_series(expr, within)


def scrape_config(jobs: Mapping[str, Sequence[str]], interval: str = "1s") -> str:
    return yaml.safe_dump(lab_scrape_config(jobs, interval), sort_keys=False)


@contextlib.asynccontextmanager
async def run_prometheus(
    jobs: Mapping[str, Sequence[str]] | None = None, *, ready_timeout: float = 30.0
) -> AsyncIterator[PrometheusStack]:
    """Run Prometheus scraping `jobs` ({job name: [host:port, ...]}) every second."""
    if not prometheus_available():
        raise PrometheusStartError(f"{PROMETHEUS_BINARY} is not installed")
    data_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="promstack-"))
    try:
        config = lab_scrape_config(jobs or {})
        async with prometheus_process(data_dir, config, ready_timeout_s=ready_timeout) as url:
            yield PrometheusStack(url=url, data_dir=data_dir)
    finally:
        await asyncio.to_thread(shutil.rmtree, data_dir, ignore_errors=True)
