"""The App Home tab: published on `app_home_opened`, re-published for recent visitors when an
incident changes, buttons that work from Home, and Slack's event retries handled once."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from emulator.driver import APP_ID, FORM, JSON
from emulator.state import TEAM_ID
from tests.commands.conftest import (
    ADMIN,
    OWNER,
    STRANGER,
    Commands,
)
from tests.waiting import eventually


def home_of(commands: Commands, user: str) -> dict[str, Any] | None:
    views = [v for v in commands.emulator.state.views.values() if v.user_id == user]
    return views[0].view if views else None


def publishes_for(commands: Commands, user: str) -> int:
    view = next((v for v in commands.emulator.state.views.values() if v.user_id == user), None)
    return 0 if view is None else len(view.history) + 1


async def test_home_lists_open_incidents_with_buttons_and_services(commands: Commands) -> None:
    incident_id = await commands.open_incident_id()
    reply = await commands.driver.app_home_opened(OWNER)
    assert reply.status == 200
    await eventually(lambda: home_of(commands, OWNER) is not None)
    view = home_of(commands, OWNER)
    assert view is not None
    assert view["type"] == "home"
    text = json.dumps(view)
    assert incident_id in text
    assert "HighErrorRate" in text
    assert "open for" in text
    buttons = [b for b in view["blocks"] if b["type"] == "actions"]
    assert buttons[0]["elements"][0]["action_id"] == "incident_ack"
    assert "*checkout*" in text
    assert "*payments*" in text
    assert "not checked lately" in text


async def test_home_is_refreshed_for_recent_visitors_when_an_incident_changes(
    commands: Commands,
) -> None:
    incident_id = await commands.open_incident_id()
    await commands.driver.app_home_opened(STRANGER)
    await eventually(lambda: publishes_for(commands, STRANGER) == 1)
    await commands.driver.slash_command("/incident", f"ack {incident_id}", user_id=ADMIN)
    await eventually(lambda: publishes_for(commands, STRANGER) == 2)
    assert f"acknowledged by <@{ADMIN}>" in json.dumps(home_of(commands, STRANGER))
    assert home_of(commands, ADMIN) is None, "only people who opened Home get it published"


async def test_a_refused_click_in_home_is_explained_in_home(commands: Commands) -> None:
    incident_id = await commands.open_incident_id()
    await commands.driver.app_home_opened(STRANGER)
    await eventually(lambda: publishes_for(commands, STRANGER) == 1)
    reply = await click_in_home(commands, "incident_ack", incident_id, STRANGER)
    assert reply == 200
    await eventually(lambda: "S0ONCALL" in json.dumps(home_of(commands, STRANGER)))

    await click_in_home(commands, "incident_ack", incident_id, OWNER)
    repository = commands.bot.wiring.deps.incidents.repository

    async def acknowledged_by_owner() -> bool:
        incident = await repository.get(incident_id)
        return incident is not None and incident.acknowledged_by == OWNER

    await eventually(acknowledged_by_owner)


async def test_a_retried_event_is_handled_once(commands: Commands) -> None:
    envelope = {
        "token": "unused",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": "Ev0RETRIED01",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": OWNER, "tab": "home", "event_ts": "1.0"},
    }
    body = json.dumps(envelope).encode()
    for _ in range(3):
        reply = await commands.driver.send_raw(body, JSON)
        assert reply.status == 200
    await eventually(lambda: publishes_for(commands, OWNER) == 1)
    # The retries were refused before their replies came back; let any work they could have
    # started finish before counting.
    assert await commands.bot.wiring.deps.tasks.settle(within=5) == 0
    assert len(commands.emulator.state.calls_to("views.publish")) == 1
    await commands.driver.app_home_opened(OWNER)  # a new event_id is a new event
    await eventually(lambda: publishes_for(commands, OWNER) == 2)


async def click_in_home(commands: Commands, action_id: str, value: str, user: str) -> int:
    """A button press inside App Home: a view container and no response_url, as Slack sends."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "unused",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": "1.2.3",
        "team": {"id": TEAM_ID, "domain": "emulated"},
        "view": {"id": "V0HOME", "type": "home", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"incident:{value}",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    form = urlencode({"payload": json.dumps(payload)}).encode()
    return (await commands.driver.send_raw(form, FORM)).status
