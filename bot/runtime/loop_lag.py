"""Measures the bot's own event-loop lag, the signal it teaches others to watch."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Histogram

from bot.telemetry import EVENT_LOOP_LAG

SAMPLE_INTERVAL_SECONDS = 0.1


async def watch_loop_lag(
    histogram: Histogram = EVENT_LOOP_LAG, interval: float = SAMPLE_INTERVAL_SECONDS
) -> None:
    """Sleep `interval` repeatedly and record how late each wake-up was. Runs until cancelled."""
    while True:
        expected = time.perf_counter() + interval
        await asyncio.sleep(interval)
        histogram.observe(max(0.0, time.perf_counter() - expected))
