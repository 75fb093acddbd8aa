"""Liveness, readiness and metrics endpoints; /metrics may require a bearer token.

/readyz answers 503 with the reasons while the store cannot be reached, Slack's `auth.test`
failed, or a supervised background task (the outbox worker) is down; writes waiting in the
dead-letter list are named in its `notes` without failing it (they need a person, not a
restart). /metrics reads the outbox figures from the store at each scrape, so every replica
reports the whole shared queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import telemetry
from bot.credentials import bearer_token, matches_any
from bot.http.limits import problem_response
from bot.http.schemas import Alive, ReadinessAnswer
from bot.outbox.dead_letters import parse_record
from bot.store.base import Store, StoreUnavailable

STORE_READ_TIMEOUT_SECONDS = 2.0
DEAD_LETTERS_NAMED = 3

# A check returns None when all is well, else what is wrong.
Check = Callable[[], str | None]


@dataclass
class Readiness:
    """Facts learned at start-up, and live checks, that readiness depends on."""

    slack_problem: str | None = "Slack auth.test has not run yet"
    checks: list[Check] = field(default_factory=list)


READINESS_KEY = web.AppKey("readiness", Readiness)
STORE_KEY = web.AppKey("store", Store)
METRICS_TOKENS_KEY = web.AppKey("metrics_tokens", tuple[bytes, ...])


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response(Alive().model_dump())


async def readyz(request: web.Request) -> web.Response:
    problems, notes = await assess(request.app)
    if problems:
        answer = ReadinessAnswer(status="not ready", reasons=problems, notes=notes)
        return web.json_response(answer.model_dump(exclude_defaults=True), status=503)
    answer = ReadinessAnswer(status="ready", notes=notes)
    return web.json_response(answer.model_dump(exclude_defaults=True))


async def assess(app: web.Application) -> tuple[list[str], list[str]]:
    """What keeps this process from being ready, and what an operator should look at."""
    readiness = app[READINESS_KEY]
    problems = [p for p in [readiness.slack_problem, *(c() for c in readiness.checks)] if p]
    store = app[STORE_KEY]
    notes: list[str] = []
    try:
        async with asyncio.timeout(STORE_READ_TIMEOUT_SECONDS):
            await store.ping()
            notes = await _dead_letter_notes(store)
    except (StoreUnavailable, TimeoutError) as error:
        problems.append(f"state store unreachable: {error or 'timed out'}")
    telemetry.READY.set(0 if problems else 1)
    return problems, notes


async def _dead_letter_notes(store: Store) -> list[str]:
    count = (await store.outbox_stats()).dead_letters
    if not count:
        return []
    latest = [parse_record(r) for r in await store.dead_letters(DEAD_LETTERS_NAMED)]
    named = [letter.summary() for letter in latest if letter is not None]
    return [f"{count} Slack write(s) in the dead-letter list; latest: " + "; ".join(named)]


async def metrics(request: web.Request) -> web.Response:
    tokens = request.app[METRICS_TOKENS_KEY]
    offered = bearer_token(request.headers.get("Authorization", ""))
    if tokens and not matches_any(offered, tokens):
        return problem_response(
            401, "missing or wrong Authorization: Bearer token", "Authorization"
        )
    await assess(request.app)
    await _refresh_outbox_figures(request.app[STORE_KEY])
    body = generate_latest(telemetry.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _refresh_outbox_figures(store: Store) -> None:
    try:
        async with asyncio.timeout(STORE_READ_TIMEOUT_SECONDS):
            stats = await store.outbox_stats()
    except (StoreUnavailable, TimeoutError):
        return  # the figures keep their last values; bot_store_errors_total says why
    telemetry.OUTBOX_PENDING.set(stats.pending)
    telemetry.OUTBOX_OLDEST_AGE.set(stats.oldest_age_seconds)
    telemetry.OUTBOX_DEAD_LETTERS.set(stats.dead_letters)


def add_health_routes(app: web.Application, metrics_tokens: tuple[str, ...] = ()) -> None:
    """`metrics_tokens` empty: /metrics is open, as Prometheus scrapes it by default."""
    app[METRICS_TOKENS_KEY] = tuple(token.encode() for token in metrics_tokens)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
