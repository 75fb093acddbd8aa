"""With SLACK_APP_TOKEN set, the bot takes Slack's traffic over Socket Mode instead of HTTP."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from aiohttp import web

from bot.config import load_config
from bot.serve import build_application
from emulator.server import start_emulator
from tests.conftest import BOT_TOKEN, make_settings

APP_TOKEN = "xapp-1-A0TEST-0000-apptoken"


async def test_socket_mode_connects_at_start_up_and_answers_a_command() -> None:
    async with await start_emulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
        settings = make_settings(slack, SLACK_APP_TOKEN=APP_TOKEN)
        app = await build_application(settings, load_config(settings))
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await asyncio.wait_for(slack.state.sockets.connected.wait(), 10)
            command = {
                "command": "/triage",
                "text": "help",
                "user_id": "U0ALICE",
                "channel_id": "C0GENERAL",
                "team_id": slack.state.team_id,
                "response_url": f"{slack.response_sink_base}/r1?{urlencode({'x': '1'})}",
                "trigger_id": "t1",
            }
            ack = await slack.state.sockets.push("slash_commands", command)
        finally:
            await runner.cleanup()
    assert "/triage SERVICE [WINDOW]" in ack["payload"]["text"]
    assert ack["payload"]["response_type"] == "ephemeral"
    assert [c.method for c in slack.state.calls].count("apps.connections.open") >= 1


async def test_a_bot_token_cannot_open_a_socket() -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    async with await start_emulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.url)
        with pytest.raises(SlackApiError) as refused:
            await client.apps_connections_open(app_token=BOT_TOKEN)
    assert refused.value.response["error"] == "not_allowed_token_type"
