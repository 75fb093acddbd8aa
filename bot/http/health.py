"""Liveness, readiness and metrics endpoints; /metrics may require a bearer token."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.credentials import bearer_token, matches_any
from bot.http.limits import problem_response
from bot.http.schemas import Alive, ReadinessAnswer
from bot.store.base import Store, StoreUnavailable
from bot.telemetry import REGISTRY


@dataclass
class Readiness:
    """Facts learned at start-up that readiness depends on."""

    slack_problem: str | None = "Slack auth.test has not run yet"
    notes: list[str] = field(default_factory=list)


READINESS_KEY = web.AppKey("readiness", Readiness)
STORE_KEY = web.AppKey("store", Store)
METRICS_TOKENS_KEY = web.AppKey("metrics_tokens", tuple[bytes, ...])


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response(Alive().model_dump())


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
        answer = ReadinessAnswer(status="not ready", reasons=problems)
        return web.json_response(answer.model_dump(), status=503)
    return web.json_response(ReadinessAnswer(status="ready").model_dump(exclude_defaults=True))


async def metrics(request: web.Request) -> web.Response:
    tokens = request.app[METRICS_TOKENS_KEY]
    offered = bearer_token(request.headers.get("Authorization", ""))
    if tokens and not matches_any(offered, tokens):
        return problem_response(
            401, "missing or wrong Authorization: Bearer token", "Authorization"
        )
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_health_routes(app: web.Application, metrics_tokens: tuple[str, ...] = ()) -> None:
    """`metrics_tokens` empty: /metrics is open, as Prometheus scrapes it by default."""
    app[METRICS_TOKENS_KEY] = tuple(token.encode() for token in metrics_tokens)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
