"""A real Bolt app, pointed at the emulator and driven by the driver, works end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator, Signing, SlackDriver
from tests.emulator.conftest import TOKEN

SECRET = "a-signing-secret-for-tests"


def build_app(emulator: RunningEmulator) -> AsyncApp:
    client = AsyncWebClient(token=TOKEN, base_url=emulator.url)
    # Process before answering so the test sees every listener's effect once the reply is in.
    app = AsyncApp(signing_secret=SECRET, client=client, process_before_response=True)

    @app.command("/triage")
    async def triage(ack: Any, respond: Any, say: Any, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"looking into {command['text']}")
        await say(
            text="triage started",
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "ack",
                            "value": command["text"],
                            "text": {"type": "plain_text", "text": "Acknowledge"},
                        }
                    ],
                }
            ],
        )

    @app.action("ack")
    async def acknowledge(ack: Any, respond: Any, body: dict[str, Any]) -> None:
        await ack()
        await respond(replace_original=True, text=f"acknowledged {body['actions'][0]['value']}")

    @app.event("app_home_opened")
    async def home(client: AsyncWebClient, event: dict[str, Any]) -> None:
        view = {
            "type": "home",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
        }
        await client.views_publish(user_id=event["user"], view=view)

    return app


@pytest.fixture
async def bot_url(emulator: RunningEmulator) -> AsyncIterator[str]:
    runner = web.AppRunner(build_app(emulator).web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/slack/events"
    await runner.cleanup()


async def test_command_click_and_home_through_bolt(emulator: RunningEmulator, bot_url: str) -> None:
    async with SlackDriver(bot_url, SECRET, emulator.response_sink_base) as driver:
        reply = await driver.slash_command("/triage", "checkout", channel_id="C0INCIDENTS")
        assert reply.status == 200
        [posted] = emulator.state.channel_messages("C0INCIDENTS")
        assert emulator.state.response_posts[0].body["text"] == "looking into checkout"

        click = await driver.click_button(
            "ack", "checkout", message_ts=posted.ts, channel_id="C0INCIDENTS"
        )
        assert click.status == 200
        assert posted.text == "acknowledged checkout"
        assert posted.edits[0].text == "triage started"

        assert (await driver.app_home_opened("U0BOB")).status == 200
        [home] = emulator.state.views.values()
        assert home.user_id == "U0BOB"


async def test_bolt_rejects_what_slack_would_not_sign(
    emulator: RunningEmulator, bot_url: str
) -> None:
    async with SlackDriver(bot_url, SECRET, emulator.response_sink_base) as driver:
        assert (await driver.slash_command("/triage", "x", signing=Signing.WRONG)).status == 401
        assert (await driver.slash_command("/triage", "x", signing=Signing.MISSING)).status == 401
    assert emulator.state.channel_messages("C0INCIDENTS") == []
    assert emulator.state.response_posts == []
