"""Wiring: build the one aiohttp application that serves Slack, alerts, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.http.health import READINESS_KEY, STORE_KEY, Readiness, add_health_routes
from bot.http.middleware import count_requests
from bot.runtime.loop_lag import watch_loop_lag
from bot.runtime.tasks import TaskTracker
from bot.settings import Settings
from bot.slack.client import BotWebClient, make_client
from bot.slack.commands import register_all
from bot.slack.deps import Deps
from bot.slack.events import add_slack_routes
from bot.store.base import Store

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
TASKS_KEY = web.AppKey("tasks", TaskTracker)
CLIENT_KEY = web.AppKey("slack_client", BotWebClient)


@dataclass(frozen=True)
class Wiring:
    """The long-lived objects one bot process owns."""

    settings: Settings
    store: Store
    client: BotWebClient
    tasks: TaskTracker
    bolt: AsyncApp


def build_wiring(settings: Settings, store: Store) -> Wiring:
    token = _secret(settings.SLACK_BOT_TOKEN)
    client = make_client(token, settings.slack_api_url)
    bolt = AsyncApp(
        client=client,
        signing_secret=_secret(settings.SLACK_SIGNING_SECRET),
        # Signatures are checked in bot.slack.events before Bolt sees the request.
        request_verification_enabled=False,
        process_before_response=False,
    )
    tasks = TaskTracker()
    register_all(bolt, Deps(settings=settings, store=store, tasks=tasks))
    return Wiring(settings=settings, store=store, client=client, tasks=tasks, bolt=bolt)


def create_app(wiring: Wiring) -> web.Application:
    app = web.Application(middlewares=[count_requests], client_max_size=16 * 1024 * 1024)
    app[READINESS_KEY] = Readiness()
    app[STORE_KEY] = wiring.store
    app[TASKS_KEY] = wiring.tasks
    app[CLIENT_KEY] = wiring.client
    add_health_routes(app)
    add_slack_routes(app, wiring.bolt, _secret(wiring.settings.SLACK_SIGNING_SECRET))
    app.cleanup_ctx.append(_loop_lag_ctx)
    app.on_startup.append(_check_slack_auth)
    app.on_shutdown.append(_drain_background_work)
    app.on_cleanup.append(_close_connections)
    return app


async def _loop_lag_ctx(_app: web.Application) -> AsyncIterator[None]:
    watcher = asyncio.create_task(watch_loop_lag(), name="loop-lag-watcher")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


async def _check_slack_auth(app: web.Application) -> None:
    readiness = app[READINESS_KEY]
    try:
        identity = await app[CLIENT_KEY].auth_test()
    except SlackApiError as error:
        readiness.slack_problem = f"Slack auth.test failed: {error.response.get('error')}"
    except Exception as error:
        readiness.slack_problem = f"Slack API unreachable: {type(error).__name__}"
    else:
        readiness.slack_problem = None
        log.info("connected to Slack", team=identity.get("team"), bot_user=identity.get("user"))
    if readiness.slack_problem:
        log.error("Slack is not usable; /readyz will answer 503", reason=readiness.slack_problem)


async def _drain_background_work(app: web.Application) -> None:
    left = await app[TASKS_KEY].drain(SHUTDOWN_GRACE_SECONDS)
    if left:
        log.warning("background work cancelled at shutdown", tasks=left)


async def _close_connections(app: web.Application) -> None:
    await app[STORE_KEY].close()
    session = app[CLIENT_KEY].session
    if session is not None and not session.closed:
        await session.close()


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""
