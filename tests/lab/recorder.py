"""Capture what the bot reads for one service as a recording for `tests/triage/recordings`.

    recording = await record_service(prometheus_url, {"job": "svc"}, "2m", expect="healthy")

The series are fetched exactly as a triage would fetch them (same convention detection, same
window and step), with timestamps made relative to the end of the window, so a confounder
met in the lab can be kept as a unit test without the lab.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot.catalog import Service
from bot.sources.prometheus import PrometheusClient
from bot.sources.signals import Signal
from bot.triage.service_source import build_signal_source
from bot.triage.window import parse_window


async def record_service(
    prometheus_url: str, selector: dict[str, str], window: str, *, expect: str, note: str = ""
) -> dict[str, Any]:
    parsed = parse_window(window, end=time.time())
    service = Service.model_validate({"name": "recorded", "selector": selector})
    async with PrometheusClient(prometheus_url) as client:
        source = await build_signal_source(client.caller(cap=4), service)
        fetched = await source.fetch(list(Signal), parsed)
    signals = {
        key: [
            {
                "labels": {k: v for k, v in one.labels.items() if k not in {"job", "instance"}},
                "points": [[round(t - parsed.end, 3), v] for t, v in one.points],
            }
            for one in found
        ]
        for key, found in fetched.series.items()
        if found
    }
    recording: dict[str, Any] = {
        "service": "checkout",
        "selector": '{service="checkout"}',
        "expect": expect,
        "signals": signals,
    }
    if note:
        recording["note"] = note
    missing = dict(fetched.missing)
    if missing:
        recording["missing"] = missing
    return recording


def save(recording: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(recording, indent=1) + "\n", encoding="utf-8")
