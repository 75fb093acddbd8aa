"""`python -m bot serve`: the long-running bot process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import create_app
from bot.config import BotConfig
from bot.http.server import ServerLimits, run_until_stopped
from bot.settings import Settings
from bot.store import open_store
from bot.wiring import Wiring, build_wiring

log = structlog.get_logger(__name__)


async def build_application(settings: Settings, config: BotConfig) -> web.Application:
    store = await open_store(settings.redis_target())
    wiring = build_wiring(settings, store, config)
    app = create_app(wiring)
    if settings.SLACK_APP_TOKEN is not None:
        app.cleanup_ctx.append(
            _socket_mode_ctx(wiring, settings.SLACK_APP_TOKEN.get_secret_value())
        )
    return app


def _socket_mode_ctx(wiring: Wiring, app_token: str):  # type: ignore[no-untyped-def]
    async def socket_mode(_app: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(wiring.bolt, app_token, web_client=wiring.client)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("receiving Slack events over Socket Mode")
        yield
        await handler.close_async()  # type: ignore[no-untyped-call]

    return socket_mode


def serve(settings: Settings, config: BotConfig) -> None:
    log.info(
        "starting the bot",
        host=settings.BOT_HTTP_HOST,
        port=settings.BOT_HTTP_PORT,
        socket_mode=settings.socket_mode,
    )
    run_until_stopped(
        build_application(settings, config),
        settings.BOT_HTTP_HOST,
        settings.BOT_HTTP_PORT,
        ServerLimits.from_settings(settings),
    )
