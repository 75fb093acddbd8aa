"""Grafana's optional HMAC signature, checked before a Grafana payload is parsed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from structlog.testing import capture_logs

from bot.alerts.sources.grafana import (
    REPLAY_WINDOW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_problem,
)
from tests.alerts.conftest import GRAFANA_SECRET, ClientFactory, RecordingSink, bearer, example

BODY = json.dumps(example("grafana")).encode()


def _sign(
    body: bytes, timestamp: str | None = None, secret: str = GRAFANA_SECRET
) -> dict[str, str]:
    signed = body if timestamp is None else f"{timestamp}:".encode() + body
    headers = {SIGNATURE_HEADER: hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}
    if timestamp is not None:
        headers[TIMESTAMP_HEADER] = timestamp
    return headers


def test_body_signature_without_timestamp_is_accepted() -> None:
    assert signature_problem(GRAFANA_SECRET, BODY, _sign(BODY)) is None


def test_timestamped_signature_inside_the_window_is_accepted() -> None:
    now = 1_714_564_800.0
    headers = _sign(BODY, timestamp=str(int(now - REPLAY_WINDOW_SECONDS + 5)))

    assert signature_problem(GRAFANA_SECRET, BODY, headers, now=lambda: now) is None


@pytest.mark.parametrize("age", [REPLAY_WINDOW_SECONDS + 1, -(REPLAY_WINDOW_SECONDS + 1)])
def test_timestamp_outside_the_window_is_refused_even_when_signed(age: float) -> None:
    now = 1_714_564_800.0
    headers = _sign(BODY, timestamp=str(int(now - age)))

    problem = signature_problem(GRAFANA_SECRET, BODY, headers, now=lambda: now)

    assert problem == "signature timestamp is outside the five-minute window"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, f"missing {SIGNATURE_HEADER} header"),
        (_sign(BODY, secret="another-secret"), "signature does not match"),
        (_sign(BODY + b" "), "signature does not match"),
        ({**_sign(BODY), TIMESTAMP_HEADER: str(int(time.time()))}, "signature does not match"),
        (
            {**_sign(BODY, "1"), TIMESTAMP_HEADER: "yesterday"},
            f"{TIMESTAMP_HEADER} is not a Unix timestamp",
        ),
        ({SIGNATURE_HEADER: "zz-not-hex-é"}, "signature does not match"),
    ],
    ids=["missing", "other-secret", "body-changed", "timestamp-added", "timestamp-text", "garbage"],
)
def test_bad_signatures(headers: dict[str, str], expected: str) -> None:
    problem = signature_problem(GRAFANA_SECRET, BODY, headers)

    assert problem == expected
    assert GRAFANA_SECRET not in (problem or "")


async def test_signed_grafana_webhook_over_http(
    make_client: ClientFactory, sink: RecordingSink
) -> None:
    client = await make_client(grafana_secret=GRAFANA_SECRET)
    fresh = str(int(time.time()))

    plain = await client.post("/alerts/grafana", data=BODY, headers={**bearer(), **_sign(BODY)})
    stamped = await client.post(
        "/alerts/grafana", data=BODY, headers={**bearer(), **_sign(BODY, fresh)}
    )

    assert (plain.status, stamped.status) == (202, 202)
    assert len(sink.batches) == 2


@pytest.mark.parametrize("case", ["bad", "stale", "unsigned"])
async def test_unacceptable_grafana_signature_over_http_is_401(
    make_client: ClientFactory, sink: RecordingSink, case: str
) -> None:
    stale = str(int(time.time() - REPLAY_WINDOW_SECONDS - 60))
    signatures = {
        "bad": _sign(BODY, secret="not-the-grafana-secret"),
        "stale": _sign(BODY, stale),
        "unsigned": {},
    }
    client = await make_client(grafana_secret=GRAFANA_SECRET)
    with capture_logs() as logs:
        response = await client.post(
            "/alerts/grafana", data=BODY, headers={**bearer(), **signatures[case]}
        )

    assert response.status == 401
    assert GRAFANA_SECRET not in await response.text()
    assert sink.batches == []
    assert GRAFANA_SECRET not in repr(logs)
    assert "Checkout is slow" not in repr(logs)


async def test_signature_is_checked_only_when_a_secret_is_configured(
    make_client: ClientFactory,
) -> None:
    client = await make_client()
    response = await client.post("/alerts/grafana", data=BODY, headers=bearer())

    assert response.status == 202


async def test_grafana_secret_does_not_affect_other_sources(make_client: ClientFactory) -> None:
    client = await make_client(grafana_secret=GRAFANA_SECRET)
    response = await client.post(
        "/alerts/alertmanager", json=example("alertmanager"), headers=bearer()
    )

    assert response.status == 202


async def test_grafana_signature_does_not_replace_the_token(make_client: ClientFactory) -> None:
    client = await make_client(grafana_secret=GRAFANA_SECRET)
    response = await client.post("/alerts/grafana", data=BODY, headers=_sign(BODY))

    assert response.status == 401
