"""How much time the Prometheus client adds on top of a bare aiohttp POST, and queries per second.

    .venv/bin/python -m bench.prometheus_client_overhead [--queries 400] [--url http://...]

Without --url it starts a local Prometheus (as the tests do) scraping a sample prom-client
exposition. Each round sends the same instant query once bare and once through the client, in
alternating order; the overhead is the difference of each pair.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp

from bot.sources.prometheus import PrometheusClient
from tests.promstack import fixture_text, run_prometheus, serve_exposition

QUERY = 'sum(rate(http_request_duration_seconds_count{job="bench"}[1m]))'


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def paired_overhead(url: str, queries: int) -> tuple[list[float], list[float]]:
    async with aiohttp.ClientSession() as session, PrometheusClient(url) as client:

        async def bare() -> object:
            async with session.post(f"{url}/api/v1/query", data={"query": QUERY}) as response:
                return await response.json()

        async def through_client() -> object:
            return await client.query(QUERY)

        await bare()
        await through_client()  # warm both connection pools
        differences, client_times = [], []
        for round_number in range(queries):
            first, second = (bare, through_client) if round_number % 2 else (through_client, bare)
            one, two = await timed(first), await timed(second)
            bare_time, client_time = (one, two) if first is bare else (two, one)
            differences.append(client_time - bare_time)
            client_times.append(client_time)
        return differences, client_times


async def throughput(url: str, queries: int) -> float:
    async with PrometheusClient(url) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.query(QUERY) for _ in range(queries)))
        elapsed = time.perf_counter() - started
        assert client.queries_made == queries
    return queries / elapsed


@contextlib.asynccontextmanager
async def prometheus(url: str | None) -> AsyncIterator[str]:
    if url:
        yield url.rstrip("/")
        return
    async with (
        serve_exposition(fixture_text("sample_promclient.txt")) as target,
        run_prometheus({"bench": [target]}) as stack,
    ):
        await stack.wait_for_series('up{job="bench"}')
        yield stack.url


async def main(queries: int, url: str | None) -> None:
    async with prometheus(url) as base:
        differences, client_times = await paired_overhead(base, queries)
        rate = await throughput(base, queries)
    millis = [value * 1000 for value in differences]
    print(f"queries per measurement: {queries} against {base}")
    print(f"client time   p50 {percentile(client_times, 0.5) * 1000:7.3f} ms")
    p50, p99 = percentile(millis, 0.5), percentile(millis, 0.99)
    print(
        f"overhead      p50 {p50:7.3f} ms   p99 {p99:7.3f} ms (pairs; p99 includes server jitter)"
    )
    print(f"overhead mean {statistics.fmean(millis):7.3f} ms")
    print(f"throughput    {rate:7.1f} queries/s (global cap 8)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--url", help="an existing Prometheus instead of a local one")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.queries, arguments.url))
