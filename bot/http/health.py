"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.store.base import Store, StoreUnavailable
from bot.telemetry import REGISTRY


@dataclass
class Readiness:
    """Facts learned at start-up that readiness depends on."""

    slack_problem: str | None = "Slack auth.test has not run yet"
    notes: list[str] = field(default_factory=list)


READINESS_KEY = web.AppKey("readiness", Readiness)
STORE_KEY = web.AppKey("store", Store)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    problems: list[str] = []
    readiness = request.app[READINESS_KEY]
    if readiness.slack_problem:
        problems.append(readiness.slack_problem)
    try:
        await request.app[STORE_KEY].ping()
    except StoreUnavailable as error:
        problems.append(f"state store unreachable: {error}")
    if problems:
        return web.json_response({"status": "not ready", "reasons": problems}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(_request: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_health_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
