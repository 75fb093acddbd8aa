"""/openapi.json describes every route the app serves, and schemathesis holds the live app to it.

The fuzzing runs against a real bot (emulated Slack, in-memory store) on its own thread: each
documented operation gets `EXAMPLES` generated requests, valid and invalid, with the right
credentials. No answer may be a 5xx or carry a traceback, every 4xx names its field, every
answer matches its description, and nothing the bot then posts to Slack may carry a control
sequence from the generated text. The counts go to `.run/security.md`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import negative_data_rejection

from bot.alerts.sources import SOURCES
from bot.http.openapi import HTTP_API, openapi_document
from tests.live_thread import LiveBot
from tests.log_capture import CapturedLogs, captured_logs
from tests.security_report import record_route
from tests.slack_safety import unsafe_sequences

if TYPE_CHECKING:
    # A case for an OpenAPI operation; schemathesis defines the alias for type checkers only.
    from schemathesis.specs.openapi.schemas import OpenApiCase

EXAMPLES = 50
WEBHOOK_TOKEN = "canary-webhook-token-8d61f0"
METRICS_TOKEN = "canary-metrics-token-2c94aa"
CATALOG = """
defaults: {channel: C0INCIDENTS}
services:
  checkout:
    selector: {job: checkout}
"""
TOKENS = {"webhookToken": WEBHOOK_TOKEN, "metricsToken": METRICS_TOKEN}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/')


def test_every_route_is_described_and_every_description_is_routed(tmp_path: Path) -> None:
    with LiveBot(tmp_path, CATALOG) as live:
        served = {
            (route.method, path)
            for route in live.bot.app.router.routes()  # type: ignore[union-attr]
            if route.method != "HEAD"
            for path in _expand(route.resource.canonical if route.resource else "")
        }
        document = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    described = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert served == described
    assert document == json.loads(json.dumps(openapi_document()))


def _expand(path: str) -> list[str]:
    return [path.replace("{source}", name) for name in SOURCES] if "{source}" in path else [path]


def test_request_bodies_are_the_models_that_parse_them() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    for name, source in SOURCES.items():
        body = document["paths"][f"/alerts/{name}"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{source.payload.__name__}"
        assert set(schemas[source.payload.__name__]["properties"]) == set(
            source.payload.model_fields
        )
    assert document["openapi"] == "3.1.0"
    assert {op.path for op in HTTP_API} == set(document["paths"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    with LiveBot(
        tmp_path_factory.mktemp("openapi"),
        CATALOG,
        unpaced=True,
        ALERT_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        METRICS_TOKEN=METRICS_TOKEN,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def logs() -> Iterator[CapturedLogs]:
    with captured_logs() as captured:
        yield captured


# The description the app serves (the first test above checks it is this one).
schema = schemathesis.openapi.from_dict(openapi_document())
seen: Counter[str] = Counter()


def no_traceback(_ctx: Any, response: Response, _case: OpenApiCase) -> bool:
    text = response.content.decode("utf-8", "replace") if response.content else ""
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:300]
    return True


def errors_name_their_field(_ctx: Any, response: Response, _case: OpenApiCase) -> bool:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), body
        assert body.get("field"), f"{response.status_code} without a field: {body}"
    return True


def negative_data_rejected_or_named(ctx: Any, response: Response, case: OpenApiCase) -> bool | None:
    """Invalid data is refused, except a malformed alert in a group: the others are kept
    (202) and the bad one is named in `rejected`, since senders drop a group on any 4xx."""
    try:
        return negative_data_rejection(ctx, response, case)
    except Exception:
        if response.status_code == 202 and response.json().get("rejected"):
            return True
        raise


def no_secret_in_answer(_ctx: Any, response: Response, _case: OpenApiCase) -> bool:
    text = response.content.decode("utf-8", "replace") if response.content else ""
    assert WEBHOOK_TOKEN not in text
    assert METRICS_TOKEN not in text
    return True


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_live_app_keeps_to_its_description(
    case: OpenApiCase, live: LiveBot, logs: CapturedLogs
) -> None:
    route = f"{case.operation.method.upper()} {case.operation.path}"
    headers = _credentials(case)
    response = case.call_and_validate(
        base_url=live.url,
        headers=headers,
        timeout=30,
        excluded_checks=[negative_data_rejection],
        additional_checks=[
            negative_data_rejected_or_named,
            no_traceback,
            errors_name_their_field,
            no_secret_in_answer,
        ],
    )
    seen[route] += 1
    record_route(route, status=response.status_code)
    assert response.status_code < 500


def _credentials(case: OpenApiCase) -> dict[str, str]:
    security = case.operation.definition.raw.get("security") or []
    schemes = [name for requirement in security for name in requirement]
    token = next((TOKENS[name] for name in schemes if name in TOKENS), None)
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_after_fuzzing_no_write_to_slack_and_no_log_carries_what_it_must_not(
    live: LiveBot, logs: CapturedLogs
) -> None:
    """Runs after the fuzzing above (same module): checks what it left behind."""
    assert seen, "the fuzzing test did not run first"
    live.settle()
    state = live.emulator.state  # type: ignore[union-attr]
    writes = live.call(lambda: [m.to_record() for ms in state.messages.values() for m in ms])
    unsafe = unsafe_sequences(writes)
    record_route("(Slack writes after the API fuzzing)", unsafe=len(unsafe), writes=len(writes))
    assert unsafe == []
    text = logs.text()
    assert WEBHOOK_TOKEN not in text
    assert METRICS_TOKEN not in text
    assert logs.tracebacks() == []
