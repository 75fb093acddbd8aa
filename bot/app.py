"""The one aiohttp application: Slack events, alert webhooks, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import structlog
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot.alerts.http import add_alert_routes
from bot.charts import stop_chart_worker
from bot.deploys.http import add_deploy_routes
from bot.deploys.log import DeployLog
from bot.http.health import READINESS_KEY, STORE_KEY, Readiness, add_health_routes
from bot.http.middleware import count_requests
from bot.http.openapi import add_openapi_route
from bot.runtime.loop_lag import watch_loop_lag
from bot.slack.events import add_slack_routes
from bot.wiring import Wiring

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
WIRING_KEY = web.AppKey("wiring", Wiring)
# Routes read their bodies themselves, each with its own limit; nothing else takes a body.
MAX_OTHER_BODY_BYTES = 64 * 1024


def create_app(wiring: Wiring) -> web.Application:
    app = web.Application(middlewares=[count_requests], client_max_size=MAX_OTHER_BODY_BYTES)
    app[WIRING_KEY] = wiring
    app[READINESS_KEY] = Readiness()
    app[STORE_KEY] = wiring.store
    settings = wiring.settings
    add_health_routes(app, settings.metrics_tokens)
    add_slack_routes(
        app,
        wiring.bolt,
        _secret(settings.SLACK_SIGNING_SECRET),
        response_origins=settings.response_url_origins,
        body_timeout=settings.BOT_HTTP_BODY_TIMEOUT,
    )
    add_alert_routes(
        app,
        token=settings.alert_tokens,
        source_tokens=settings.alert_source_tokens,
        sink=wiring.deps.incidents,
        grafana_secret=_secret(settings.GRAFANA_WEBHOOK_SECRET) or None,
        body_timeout=settings.BOT_HTTP_BODY_TIMEOUT,
    )
    add_deploy_routes(
        app,
        token=settings.alert_tokens,
        deploys=DeployLog(wiring.store),
        catalog=wiring.deps.catalog,
        body_timeout=settings.BOT_HTTP_BODY_TIMEOUT,
    )
    add_openapi_route(app)
    app[READINESS_KEY].checks.append(_worker_check(wiring))
    app.cleanup_ctx.append(_background(watch_loop_lag, "loop-lag-watcher"))
    app.cleanup_ctx.append(_outbox_worker)
    app.cleanup_ctx.append(_background(wiring.triage.sweep_forever, "triage-sweeper"))
    app.on_startup.append(_check_slack_auth)
    app.cleanup_ctx.append(_digest_schedule)
    app.on_shutdown.append(_drain_background_work)
    app.on_cleanup.append(_close_connections)
    return app


def _background(
    work: Callable[[], Coroutine[Any, Any, Any]], name: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Run `work` for the application's lifetime; cancel it on cleanup."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(), name=name)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


def _worker_check(wiring: Wiring) -> Callable[[], str | None]:
    def check() -> str | None:
        supervised = wiring.supervised_worker
        if supervised.up:
            return None
        return f"the outbox worker is down (restarted {supervised.restarts} time(s))"

    return check


async def _outbox_worker(app: web.Application) -> AsyncIterator[None]:
    """The worker runs supervised: restarted with back-off if it fails. At cleanup it finishes
    the write in hand and releases its lanes, after background work had its chance to queue."""
    wiring = app[WIRING_KEY]
    wiring.supervised_worker.start()
    yield
    await wiring.supervised_worker.stop(wiring.worker.stop)


async def _digest_schedule(app: web.Application) -> AsyncIterator[None]:
    digests = app[WIRING_KEY].digests
    if digests is None:
        log.warning("no weekly digest: PROMETHEUS_URL is not set")
        yield
        return
    await digests.start()
    yield
    await digests.stop()


async def _check_slack_auth(app: web.Application) -> None:
    readiness = app[READINESS_KEY]
    try:
        identity = await app[WIRING_KEY].client.auth_test()
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
    wiring = app[WIRING_KEY]
    left = await wiring.tasks.drain(SHUTDOWN_GRACE_SECONDS)
    if left:
        log.warning("background work cancelled at shutdown", tasks=left)


async def _close_connections(app: web.Application) -> None:
    wiring = app[WIRING_KEY]
    await wiring.store.close()
    await wiring.deps.runner.close()
    if wiring.prometheus is not None:
        await wiring.prometheus.close()
    stop_chart_worker()


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""
