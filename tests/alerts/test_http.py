"""POST /alerts/{source} through a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.alerts import http as alert_http
from bot.alerts.model import AlertBatch
from bot.alerts.sources import SOURCES
from bot.telemetry import REGISTRY
from tests.alerts.conftest import TOKEN, ClientFactory, RecordingSink, bearer, example


async def test_accepts_each_source_once_stored(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    client = await make_client()
    for source in sorted(SOURCES):
        response = await client.post(f"/alerts/{source}", json=example(source), headers=bearer())
        body = await response.json()

        assert response.status == 202, body
        assert body["source"] == source
        assert body["accepted"] == body["alerts"] == len(sink.batches[-1].alerts)
        assert body["duplicates"] == 0
    assert [batch.source for batch in sink.batches] == sorted(SOURCES)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Digest {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer jéton"},
    ],
    ids=["missing", "wrong", "basic-scheme", "other-scheme", "longer", "empty", "non-ascii"],
)
async def test_refuses_requests_without_the_token(
    make_client: ClientFactory, sink: RecordingSink, headers: dict[str, str]
) -> None:
    client = await make_client()
    with capture_logs() as logs:
        response = await client.post(
            "/alerts/alertmanager", json=example("alertmanager"), headers=headers
        )
    text = await response.text()

    assert response.status == 401
    assert TOKEN not in text
    assert "not-the-token" not in text
    assert sink.batches == []
    assert TOKEN not in repr(logs)
    assert "NodeEventLoopLagHigh" not in repr(logs)


async def test_bearer_scheme_is_case_insensitive(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post(
        "/alerts/generic", json=example("generic"), headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert response.status == 202


async def test_unknown_source_is_404(make_client: ClientFactory, sink: RecordingSink) -> None:
    client = await make_client()
    response = await client.post("/alerts/pagerduty", json={"alerts": []}, headers=bearer())
    body = await response.json()

    assert response.status == 404
    assert "alertmanager" in body["error"]
    assert sink.batches == []


async def test_unknown_source_still_needs_the_token(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post("/alerts/pagerduty", json={})

    assert response.status == 401


async def test_malformed_payload_is_400_naming_the_field(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    payload = example("alertmanager")
    payload["alerts"] = [{**payload["alerts"][1], "startsAt": "last tuesday"}]
    client = await make_client()
    with capture_logs() as logs:
        response = await client.post("/alerts/alertmanager", json=payload, headers=bearer())
    body = await response.json()

    assert response.status == 400
    assert body["field"] == "alerts[0].startsAt"
    assert body["problem"] == "not an RFC 3339 timestamp"
    assert "alerts[0].startsAt" in body["error"]
    assert sink.batches == []
    assert "last tuesday" not in repr(logs)
    assert [entry["field"] for entry in logs if entry["log_level"] == "warning"] == [
        "alerts[0].startsAt"
    ]


def rejected_count(source: str, reason: str) -> float:
    from bot.telemetry import REGISTRY

    sample = REGISTRY.get_sample_value(
        "bot_alerts_rejected_total", {"source": source, "reason": reason}
    )
    return sample or 0.0


@pytest.mark.parametrize("source", ["alertmanager", "generic"])
async def test_one_malformed_alert_does_not_cost_its_group(
    make_client: ClientFactory, sink: RecordingSink, source: str
) -> None:
    payload = example(source)
    good = payload["alerts"][0]
    time_field = "startsAt" if source == "alertmanager" else "starts_at"
    payload["alerts"] = [
        {**good, time_field: "last tuesday"},
        good,
        {**good, "status": "exploded"},
    ]
    before = rejected_count(source, "value_error"), rejected_count(source, "literal_error")
    client = await make_client()
    with capture_logs() as logs:
        response = await client.post(f"/alerts/{source}", json=payload, headers=bearer())
    body = await response.json()

    assert response.status == 202, body
    (batch,) = sink.batches
    assert len(batch.alerts) == 1
    assert body["accepted"] == body["alerts"] == 1
    assert body["rejected"] == [
        {"index": 0, "field": f"alerts[0].{time_field}", "problem": "not an RFC 3339 timestamp"},
        {"index": 2, "field": "alerts[2].status", "problem": "must be 'firing' or 'resolved'"},
    ]
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [entry["fields"] for entry in warnings] == [
        [f"alerts[0].{time_field}", "alerts[2].status"]
    ]
    assert "last tuesday" not in repr(logs)
    assert rejected_count(source, "value_error") == before[0] + 1
    assert rejected_count(source, "literal_error") == before[1] + 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"[" * 100_000, "body nests arrays or objects far too deep"),
    ],
)
async def test_body_that_is_not_json_is_400(
    make_client: ClientFactory, body: bytes, problem: str
) -> None:
    client = await make_client()
    response = await client.post(
        "/alerts/alertmanager",
        data=body,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    answer = await response.json()

    assert response.status == 400
    assert answer["field"] == "$"
    assert answer["problem"] == problem


async def test_json_nested_past_the_limit_is_400_naming_where(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    payload = example("alertmanager")
    deep: Any = "x"
    for _ in range(40):
        deep = {"k": deep}
    payload["alerts"][0]["labels"]["nested"] = deep
    client = await make_client()
    response = await client.post("/alerts/alertmanager", json=payload, headers=bearer())
    answer = await response.json()

    assert response.status == 400
    assert answer["field"].startswith("alerts[0].labels.nested.k.k")
    assert "deeper than 32 levels" in answer["problem"]
    assert sink.batches == []


ROTATED = "rotated-token-2b7e151628aed2a6"
GRAFANA_ONLY = "grafana-only-token-abf71588"


async def test_two_shared_tokens_work_at_once_while_rotating(make_client: ClientFactory) -> None:
    client = await make_client(token=[TOKEN, ROTATED])
    for token in (TOKEN, ROTATED):
        response = await client.post(
            "/alerts/generic", json=example("generic"), headers=bearer(token)
        )
        assert response.status == 202, token
    response = await client.post(
        "/alerts/generic", json=example("generic"), headers=bearer(GRAFANA_ONLY)
    )
    assert response.status == 401


async def test_a_source_with_its_own_token_takes_only_that(make_client: ClientFactory) -> None:
    client = await make_client(token=TOKEN, source_tokens={"grafana": [GRAFANA_ONLY]})

    async def status(source: str, token: str) -> int:
        response = await client.post(
            f"/alerts/{source}", json=example(source), headers=bearer(token)
        )
        return response.status

    assert await status("grafana", GRAFANA_ONLY) == 202
    assert await status("grafana", TOKEN) == 401
    assert await status("alertmanager", TOKEN) == 202
    assert await status("alertmanager", GRAFANA_ONLY) == 401


async def test_per_source_tokens_alone_refuse_the_other_sources(
    make_client: ClientFactory,
) -> None:
    client = await make_client(token=(), source_tokens={"datadog": [GRAFANA_ONLY]})
    ok = await client.post("/alerts/datadog", json=example("datadog"), headers=bearer(GRAFANA_ONLY))
    refused = await client.post("/alerts/generic", json=example("generic"), headers=bearer(""))
    assert (ok.status, refused.status) == (202, 401)
    assert (await refused.json())["field"] == "Authorization"


async def test_store_down_is_503_with_retry_after(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    sink.down = True
    client = await make_client()
    response = await client.post(
        "/alerts/alertmanager", json=example("alertmanager"), headers=bearer()
    )

    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0

    sink.down = False
    retried = await client.post(
        "/alerts/alertmanager", json=example("alertmanager"), headers=bearer()
    )
    assert retried.status == 202
    assert (await retried.json())["accepted"] == 2


class HangingSink:
    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    async def accept(self, batch: AlertBatch) -> Any:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


async def test_store_that_does_not_answer_in_time_is_503(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    monkeypatch.setattr(alert_http, "ACCEPT_TIMEOUT_SECONDS", 0.05)
    hanging = HangingSink()
    app = web.Application()
    alert_http.add_alert_routes(app, token=TOKEN, sink=hanging)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/alerts/generic", json=example("generic"), headers=bearer())

        assert response.status == 503
        assert "Retry-After" in response.headers
        assert hanging.cancelled.is_set()


async def test_ha_pair_duplicate_is_reported_and_resolution_is_new(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    client = await make_client()
    first_peer = example("alertmanager")
    second_peer = example("alertmanager")
    second_peer["externalURL"] = "http://alertmanager-1.example.com:9093"
    resolved = example("alertmanager")
    resolved["status"] = "resolved"
    resolved["alerts"][0].update(status="resolved", endsAt="2024-05-01T12:30:00Z")

    answers = []
    for payload in (first_peer, second_peer, resolved):
        response = await client.post("/alerts/alertmanager", json=payload, headers=bearer())
        assert response.status == 202
        answers.append(await response.json())

    assert [(a["accepted"], a["duplicates"]) for a in answers] == [(2, 0), (0, 2), (1, 1)]
    first_keys = [alert.dedupe_key for alert in sink.batches[0].alerts]
    second_keys = [alert.dedupe_key for alert in sink.batches[1].alerts]
    resolved_keys = [alert.dedupe_key for alert in sink.batches[2].alerts]
    assert first_keys == second_keys
    assert resolved_keys[0] != first_keys[0]


async def test_each_stored_batch_is_logged_without_token_or_body(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    with capture_logs() as logs:
        response = await client.post(
            "/alerts/alertmanager", json=example("alertmanager"), headers=bearer()
        )
    assert response.status == 202

    (entry,) = [e for e in logs if e["event"] == "alert batch stored"]
    assert entry["log_level"] == "info"
    assert (entry["source"], entry["count"], entry["firing"], entry["resolved"]) == (
        "alertmanager",
        2,
        1,
        1,
    )
    assert TOKEN not in repr(logs)
    assert "Event loop lag above" not in repr(logs)


async def test_empty_alertmanager_group_is_accepted_without_storing(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    payload = example("alertmanager")
    payload["alerts"] = []
    client = await make_client()
    response = await client.post("/alerts/alertmanager", json=payload, headers=bearer())

    assert response.status == 202
    assert (await response.json())["accepted"] == 0
    assert sink.batches == []


def test_routes_need_a_token() -> None:
    from aiohttp import web

    with pytest.raises(ValueError, match="ALERT_WEBHOOK_TOKEN"):
        alert_http.add_alert_routes(web.Application(), token="", sink=RecordingSink())


async def test_answers_are_counted_by_source_and_status(make_client: ClientFactory) -> None:
    client = await make_client()
    before = _webhook_counts()
    await client.post("/alerts/grafana", json=example("grafana"), headers=bearer())
    await client.post("/alerts/grafana", json=example("grafana"))
    await client.post("/alerts/no-such-source-0a1b", json={}, headers=bearer())
    after = _webhook_counts()

    assert after[("grafana", "202")] - before.get(("grafana", "202"), 0) == 1
    assert after[("grafana", "401")] - before.get(("grafana", "401"), 0) == 1
    assert after[("unknown", "404")] - before.get(("unknown", "404"), 0) == 1
    assert not [source for source, _status in after if source.startswith("no-such-source")]


def _webhook_counts() -> dict[tuple[str, str], float]:
    (family,) = [f for f in REGISTRY.collect() if f.name == "bot_alert_webhooks"]
    return {
        (sample.labels["source"], sample.labels["status"]): sample.value
        for sample in family.samples
        if sample.name.endswith("_total")
    }
