"""Canary values for every secret and in every request body: none may come back out in a log
line, an HTTP answer, /readyz or a Slack message, on the paths the fuzzers take and the
failure paths beside them. Expected conditions (no Prometheus, Prometheus down) are one log
line each, never a traceback."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from emulator.driver import FORM, JSON, slack_signature
from tests.live_thread import LiveBot
from tests.log_capture import CapturedLogs, captured_logs
from tests.security_report import record_route

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-canary-bot-token-4417",
    "SLACK_SIGNING_SECRET": "canary-signing-secret-9a1f",
    "ALERT_WEBHOOK_TOKEN": "canary-shared-token-old-01,canary-shared-token-new-02",
    "ALERT_SOURCE_TOKENS": "grafana:canary-grafana-token-7c3e",
    "METRICS_TOKEN": "canary-metrics-token-5b2d",
    "GRAFANA_WEBHOOK_SECRET": "canary-grafana-hmac-secret-0e8",
    "DATADOG_API_KEY": "canary-datadog-api-key-61",
    "DATADOG_APP_KEY": "canary-datadog-app-key-62",
    "NEWRELIC_API_KEY": "NRAK-canary-newrelic-key-63",
}
BODY_CANARY = "CANARY-BODY-c0ffee"
CATALOG = """
defaults: {channel: C0INCIDENTS}
services:
  checkout:
    selector: {job: checkout}
"""


def secret_values() -> list[str]:
    """Each secret as it would be used: listed tokens one by one, without their source."""
    parts = [part for value in SECRETS.values() for part in value.split(",")]
    return [part.partition(":")[2] if part.startswith("grafana:") else part for part in parts]


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module", params=["no prometheus", "prometheus down"])
def run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveBot, CapturedLogs, list[str]]]:
    overrides: dict[str, object] = dict(SECRETS)
    if request.param == "prometheus down":
        overrides["PROMETHEUS_URL"] = f"http://127.0.0.1:{dead_port()}"
    answers: list[str] = []
    with (
        captured_logs() as logs,
        LiveBot(tmp_path_factory.mktemp("canary"), CATALOG, unpaced=True, **overrides) as live,
    ):
        exercise(live, answers)
        live.settle()
        answers.append(requests.get(f"{live.url}/readyz", timeout=10).text)
        yield live, logs, answers


def exercise(live: LiveBot, answers: list[str]) -> None:
    """Good and bad requests on every route, each body carrying the canary."""
    shared = SECRETS["ALERT_WEBHOOK_TOKEN"].split(",")[1]
    alert = {
        "alerts": [
            {
                "name": f"Latency {BODY_CANARY}",
                "status": "firing",
                "starts_at": "2026-11-02T09:00:00Z",
                "service": "checkout",
                "summary": BODY_CANARY,
                "labels": {"note": BODY_CANARY},
            }
        ]
    }
    for token in (shared, "wrong-token-0000000000", SECRETS["METRICS_TOKEN"]):
        answers.append(_post(live, "/alerts/generic", alert, token))
    answers.append(_post(live, "/alerts/generic", {"alerts": [{"x": BODY_CANARY}]}, shared))
    grafana_token = SECRETS["ALERT_SOURCE_TOKENS"].split(":")[1]
    answers.append(_post(live, "/alerts/grafana", {"canary": BODY_CANARY}, grafana_token))
    answers.append(_signed_grafana(live, grafana_token))
    answers += _slack_requests(live)
    for token in ("", SECRETS["METRICS_TOKEN"]):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answers.append(requests.get(f"{live.url}/metrics", headers=headers, timeout=10).text)


def _post(live: LiveBot, path: str, body: Any, token: str) -> str:
    response = requests.post(
        f"{live.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    record_route("(canary requests)", status=response.status_code)
    return response.text


def _signed_grafana(live: LiveBot, token: str) -> str:
    body = json.dumps({"status": "firing", "alerts": [], "x": BODY_CANARY}).encode()
    wrong = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
    response = requests.post(
        f"{live.url}/alerts/grafana",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Grafana-Alerting-Signature": wrong,
        },
        timeout=10,
    )
    return response.text


def _slack_requests(live: LiveBot) -> list[str]:
    secret = SECRETS["SLACK_SIGNING_SECRET"]
    sink = f"{live.emulator.origin}/_emulator/response/canary1?channel=C0GENERAL&user=U0ALICE"  # type: ignore[union-attr]
    form = {
        "command": "/incident",
        "text": f"note 261102-a1b2c3 {BODY_CANARY}",
        "user_id": "U0ALICE",
        "channel_id": "C0GENERAL",
        "response_url": sink,
    }
    answers = []
    for signing_secret in (secret, "a-wrong-secret"):
        body = urlencode(form).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(signing_secret, stamp, body),
        }
        response = requests.post(f"{live.url}/slack/events", data=body, headers=headers, timeout=10)
        answers.append(response.text)
    event = json.dumps({"type": "event_callback", "event": None, "x": BODY_CANARY}).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": JSON,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, event),
    }
    answers.append(
        requests.post(f"{live.url}/slack/events", data=event, headers=headers, timeout=10).text
    )
    return answers


def test_no_secret_appears_in_logs_answers_readyz_or_slack(
    run: tuple[LiveBot, CapturedLogs, list[str]],
) -> None:
    live, logs, answers = run
    state = live.emulator.state  # type: ignore[union-attr]
    slack = json.dumps(
        live.call(lambda: [m.to_record() for ms in state.messages.values() for m in ms])
        + live.call(lambda: [p.body for p in state.response_posts])
    )
    places = {"logs": logs.text(), "answers": "\n".join(answers), "slack": slack}
    leaks = [(where, s) for s in secret_values() for where, text in places.items() if s in text]
    record_route("(canary: secrets found)", leaks=len(leaks))
    assert leaks == []
    assert "ready" in answers[-1]


def test_no_request_body_appears_in_logs(run: tuple[LiveBot, CapturedLogs, list[str]]) -> None:
    _live, logs, _answers = run
    leaked = [line for line in logs.text().splitlines() if BODY_CANARY in line]
    record_route("(canary: bodies in logs)", leaks=len(leaked))
    assert leaked == []


def test_expected_conditions_are_one_line_not_a_traceback(
    run: tuple[LiveBot, CapturedLogs, list[str]], request: pytest.FixtureRequest
) -> None:
    live, logs, _answers = run
    assert logs.tracebacks() == []
    if "no prometheus" in request.node.callspec.id:
        triage = [e for e in logs.events if e.get("event") == "triage could not run"]
        assert len(triage) == 1
        assert "PROMETHEUS_URL" in str(triage[0]["reason"])
    else:  # Prometheus down: the triage still reports, its steps unknown
        state = live.emulator.state  # type: ignore[union-attr]
        texts = live.call(lambda: [m.text for ms in state.messages.values() for m in ms])
        assert any("Triage of checkout" in text for text in texts), texts
