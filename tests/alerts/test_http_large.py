"""Large alert webhooks: the 16 MiB limit and parsing big groups off the event loop."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from bot.alerts import http as alert_http
from bot.alerts.model import AlertBatch
from bot.alerts.sources import SOURCES, Parser
from tests.alerts.conftest import ClientFactory, RecordingSink, bearer, example


async def test_body_over_16_mib_is_413(make_client: ClientFactory, sink: RecordingSink) -> None:
    client = await make_client()
    oversized = b" " * (alert_http.MAX_BODY_BYTES + 1)
    response = await client.post("/alerts/generic", data=io.BytesIO(oversized), headers=bearer())

    assert response.status == 413
    assert sink.batches == []


async def test_chunked_body_over_16_mib_is_413(make_client: ClientFactory) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b" " * (1024 * 1024)

    client = await make_client()
    response = await client.post("/alerts/generic", data=chunks(), headers=bearer())

    assert response.status == 413


def _alertmanager_group(size: int) -> dict[str, Any]:
    payload = example("alertmanager")
    template = payload["alerts"][0]
    alerts = []
    for index in range(size):
        alert = json.loads(json.dumps(template))
        alert["labels"]["instance"] = f"checkout-{index:05d}:9464"
        alert["annotations"]["description"] = "lag detail " + "x" * 600
        alert["fingerprint"] = f"{index:016x}"
        alerts.append(alert)
    payload["alerts"] = alerts
    return dict(payload)


def _recording(parser_name: str, seen: list[int]) -> dict[str, Parser]:
    real = SOURCES[parser_name]

    def parse(payload: object) -> AlertBatch:
        seen.append(threading.get_ident())
        return real(payload)

    return {**SOURCES, parser_name: parse}


async def test_ten_thousand_alerts_are_parsed_off_the_event_loop(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    parsed_on: list[int] = []
    client = await make_client(sources=_recording("alertmanager", parsed_on))
    body = json.dumps(_alertmanager_group(10_000)).encode()
    assert len(body) > 8 * 1024 * 1024

    response = await client.post(
        "/alerts/alertmanager",
        data=io.BytesIO(body),
        headers={**bearer(), "Content-Type": "application/json"},
    )
    answer = await response.json()

    assert response.status == 202, answer
    assert answer["accepted"] == 10_000
    assert len(sink.batches[0].alerts) == 10_000
    assert len({alert.dedupe_key for alert in sink.batches[0].alerts}) == 10_000
    assert len(parsed_on) == 1
    assert parsed_on[0] != threading.get_ident()


async def test_small_bodies_are_parsed_on_the_event_loop(make_client: ClientFactory) -> None:
    parsed_on: list[int] = []
    client = await make_client(sources=_recording("alertmanager", parsed_on))
    response = await client.post(
        "/alerts/alertmanager", json=example("alertmanager"), headers=bearer()
    )

    assert response.status == 202
    assert parsed_on == [threading.get_ident()]
