"""Slack's endpoint under arbitrary, validly signed requests (hypothesis).

Slash commands, block actions, view submissions and events of any shape, with hostile text
everywhere Slack lets people type: the bot never answers 5xx, no listener or background task
dies with a traceback, nothing it writes to Slack carries a control sequence it did not build
itself, no log line carries the request's text, and a retried event (`X-Slack-Retry-Num`) is
acted on once. Requests outside the five-minute window are refused.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.commands import COMMANDS as REGISTERED_COMMANDS
from bot.slack.render.incident import ACTION_ACK, ACTION_RERUN, ACTION_RESOLVE, ACTION_SILENCE
from emulator.driver import APP_ID, FORM, JSON, slack_signature
from emulator.state import TEAM_ID
from tests.conftest import SIGNING_SECRET, WEBHOOK_TOKEN
from tests.live_thread import LiveBot
from tests.log_capture import CapturedLogs, captured_logs
from tests.render.test_inert_text import HOSTILE
from tests.security_report import record_route
from tests.slack_safety import unsafe_sequences

EXAMPLES = 250
CANARY = "CANARY-7731-BODY"
CATALOG = """
defaults: {channel: C0INCIDENTS, admins: [U0ADMIN1]}
services:
  checkout:
    selector: {job: checkout}
    owners: S0ONCALL
"""
USERS = ["U0ALICE", "U0BOB", "U0ADMIN1"]
COMMANDS = [*REGISTERED_COMMANDS, "/nope"]  # every registered command, and one that is not
ACTIONS = [ACTION_ACK, ACTION_RERUN, ACTION_RESOLVE, ACTION_SILENCE, "unknown_action"]
WORDS = ["help", "list", "show", "ack", "resolve", "note", "preview", "checkout", "30m", "7d"]

text = st.lists(
    st.one_of(st.text(max_size=15), st.sampled_from([*HOSTILE, CANARY, *WORDS, " "])),
    max_size=8,
).map("".join)
user_id = st.one_of(st.sampled_from(USERS), text)
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def logs() -> Iterator[CapturedLogs]:
    with captured_logs() as captured:
        yield captured


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, logs: CapturedLogs) -> Iterator[LiveBot]:
    with LiveBot(tmp_path_factory.mktemp("slack-fuzz"), CATALOG, unpaced=True) as running:
        running.call(lambda: running.emulator.state.add_user("U0ADMIN1", "admin"))  # type: ignore[union-attr]
        yield running


@pytest.fixture(scope="module")
def incident_ids(live: LiveBot) -> list[str]:
    """A few real incidents, so buttons and `/incident` reach them too."""
    for name in ("HighErrorRate", "<!channel> Latency"):
        alert = {
            "name": name,
            "status": "firing",
            "starts_at": "2026-11-02T09:00:00Z",
            "service": "checkout",
            "summary": f"{name} <!here> {CANARY}",
            "url": "javascript:alert(1)",
        }
        response = requests.post(
            f"{live.url}/alerts/generic",
            json={"alerts": [alert]},
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 202
    store = live.bot.wiring.store  # type: ignore[union-attr]
    return list(live.run(store.open_incident_ids()))


def post_signed(
    live: LiveBot, body: bytes, content_type: str, *, age: int = 0, retry: int | None = None
) -> requests.Response:
    stamp = str(int(time.time()) - age)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, stamp, body),
    }
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return requests.post(f"{live.url}/slack/events", data=body, headers=headers, timeout=30)


def response_url(live: LiveBot, user: str, channel: str = "C0GENERAL") -> str:
    sink = f"{live.emulator.origin}/_emulator/response"  # type: ignore[union-attr]
    return f"{sink}/{secrets.token_hex(8)}?{urlencode({'channel': channel, 'user': user})}"


@st.composite
def slash_command(draw: st.DrawFn, live: LiveBot) -> tuple[bytes, str]:
    user = draw(user_id)
    form = {
        "command": draw(st.sampled_from(COMMANDS)),
        "text": draw(text),
        "user_id": user,
        "channel_id": draw(st.sampled_from(["C0GENERAL", "C0INCIDENTS", "C0NOPE"])),
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "trigger_id": draw(text),
        "response_url": response_url(live, user),
        **draw(st.dictionaries(text, text, max_size=2)),
    }
    return urlencode(form).encode(), FORM


@st.composite
def block_action(draw: st.DrawFn, live: LiveBot, incidents: list[str]) -> tuple[bytes, str]:
    user = draw(user_id)
    action: Any = {
        "type": "button",
        "action_id": draw(st.sampled_from(ACTIONS)),
        "block_id": draw(text),
        "value": draw(st.one_of(st.sampled_from(incidents or ["x"]), text)),
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": draw(st.one_of(st.just({"id": user}), json_value)),
        "api_app_id": APP_ID,
        "team": {"id": TEAM_ID},
        "container": draw(st.one_of(st.just({"type": "view"}), json_value)),
        "actions": draw(st.one_of(st.just([action]), st.lists(json_value, max_size=2))),
    }
    if draw(st.booleans()):
        payload["response_url"] = response_url(live, user)
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


@st.composite
def view_submission(draw: st.DrawFn) -> tuple[bytes, str]:
    payload = {
        "type": draw(st.sampled_from(["view_submission", "view_closed", "shortcut"])),
        "user": {"id": draw(user_id)},
        "view": draw(json_value),
        "callback_id": draw(text),
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


@st.composite
def event(draw: st.DrawFn) -> tuple[bytes, str]:
    inner = {
        "type": draw(st.sampled_from(["app_home_opened", "message", "app_mention", "other"])),
        "user": draw(user_id),
        "tab": draw(st.sampled_from(["home", "messages", "x"])),
        "text": draw(text),
    }
    envelope = {
        "type": draw(st.sampled_from(["event_callback", "url_verification", "other"])),
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event_id": draw(st.one_of(st.just(f"Ev{secrets.token_hex(6).upper()}"), text)),
        "event": draw(st.one_of(st.just(inner), json_value)),
        "challenge": draw(text),
    }
    return json.dumps(envelope).encode(), JSON


@st.composite
def any_shape(draw: st.DrawFn) -> tuple[bytes, str]:
    """Whatever a signed body might hold: arbitrary JSON, or a form with arbitrary fields."""
    if draw(st.booleans()):
        return json.dumps(draw(json_value)).encode(), JSON
    form = draw(st.dictionaries(text, text, max_size=4))
    if draw(st.booleans()):
        form["payload"] = json.dumps(draw(json_value))
    return urlencode(form).encode(), FORM


ACKS: list[Any] = []
KINDS = ["slash command", "block action", "view submission", "event", "any shape"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_signed_requests_of_any_shape_never_fail_the_bot(
    data: st.DataObject, live: LiveBot, incident_ids: list[str]
) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    strategy = {
        "slash command": slash_command(live),
        "block action": block_action(live, incident_ids),
        "view submission": view_submission(),
        "event": event(),
        "any shape": any_shape(),
    }[kind]
    body, content_type = data.draw(strategy)
    response = post_signed(live, body, content_type)
    record_route(f"POST /slack/events ({kind})", status=response.status_code)
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text
    if response.headers.get("Content-Type", "").startswith("application/json"):
        # An acknowledgement's text is shown in Slack like any message.
        answer = response.json()
        ACKS.append(answer)
        assert unsafe_sequences(answer, users=None, groups={"S0ONCALL"}) == []


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(age=st.one_of(st.integers(-3600, -306), st.integers(-295, 295), st.integers(306, 3600)))
def test_only_requests_inside_the_five_minute_window_are_taken(age: int, live: LiveBot) -> None:
    body = urlencode({"command": "/incident", "text": "help", "user_id": "U0ALICE"}).encode()
    response = post_signed(live, body, FORM, age=age)
    record_route("POST /slack/events (replayed or early)", status=response.status_code)
    assert response.status_code == (401 if abs(age) > 300 else 200)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(deliveries=st.integers(min_value=1, max_value=4))
def test_a_retried_event_is_acted_on_once(deliveries: int, live: LiveBot) -> None:
    user = "U0BOB"
    before = len(_publishes(live, user))
    envelope = {
        "type": "event_callback",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event_id": f"Ev{secrets.token_hex(6).upper()}",
        "event": {"type": "app_home_opened", "user": user, "tab": "home"},
    }
    body = json.dumps(envelope).encode()
    for attempt in range(deliveries):
        response = post_signed(live, body, JSON, retry=attempt or None)
        assert response.status_code == 200
    live.settle(quiet_seconds=0.5)
    acted = len(_publishes(live, user)) - before
    record_route("POST /slack/events (retried event)", repeats=deliveries - 1)
    assert acted == 1


def _publishes(live: LiveBot, user: str) -> list[Any]:
    """Every version of `user`'s App Home published so far."""
    state = live.emulator.state  # type: ignore[union-attr]
    return live.call(
        lambda: [
            version
            for view in state.views.values()
            if view.user_id == user
            for version in [*view.history, view.view]
        ]
    )


def test_after_fuzzing_slack_writes_and_logs_hold_nothing_they_must_not(
    live: LiveBot, logs: CapturedLogs
) -> None:
    live.settle()
    writes = [*live.call(lambda: _every_write(live)), *ACKS]
    unsafe = unsafe_sequences(writes, users=None, groups={"S0ONCALL"})
    leaked = [line for line in logs.text().splitlines() if CANARY in line or SIGNING_SECRET in line]
    record_route(
        "(Slack writes after the Slack fuzzing)",
        writes=len(writes),
        unsafe=len(unsafe),
        leaks=len(leaked),
    )
    assert len(writes) > EXAMPLES // 4, "the fuzzing reached too few Slack writes to judge"
    assert unsafe == []
    assert leaked == [], leaked[:2]
    assert logs.tracebacks() == []


def _every_write(live: LiveBot) -> list[Any]:
    """Messages with every edit, ephemerals, response_url posts and published views."""
    state = live.emulator.state  # type: ignore[union-attr]
    writes: list[Any] = []
    for messages in state.messages.values():
        for message in messages:
            record = message.to_record()
            writes += [record, *record["edits"]]
    writes += [{"text": e.text, "blocks": e.blocks} for e in state.ephemerals]
    writes += [post.body for post in state.response_posts]
    writes += [view.view for view in state.views.values()]
    writes += [old for view in state.views.values() for old in view.history]
    return writes


def test_the_canary_appears_where_it_should(live: LiveBot, logs: CapturedLogs) -> None:
    """The leak check can fail: the canary did reach Slack (escaped), so it was in play."""
    writes = json.dumps(live.call(lambda: _every_write(live)))
    assert CANARY in writes
