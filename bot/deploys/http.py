"""POST /events/deploy: CI says a service was deployed; the triage lists it under "What changed"
and blames a problem that began right after it.

    curl -fsS -X POST "$BOT_URL/events/deploy" \\
      -H "Authorization: Bearer $ALERT_WEBHOOK_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"service": "checkout", "version": "1.5.0", "commit": "4f2a9c1", "who": "ci"}'

It takes the alert webhook token. Answers: 202 stored (a repeat is stored once), 400 naming
the bad field, 404 for a service the catalog does not know, 401, 408, 413 over 16 KiB,
503 with Retry-After while the store is down.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from aiohttp import web
from pydantic import ValidationError

from bot.alerts.http import WebhookTokens
from bot.catalog import Catalog
from bot.deploys.log import DeployLog
from bot.deploys.model import DeployEvent, DeployStored
from bot.http.limits import (
    BodyTooLarge,
    BodyTooSlow,
    problem_response,
    read_body,
    too_large,
    too_slow,
)
from bot.store.base import StoreUnavailable

PATH = "/events/deploy"
MAX_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 30
BODY_TIMEOUT_SECONDS = 30.0
TOKEN_SOURCE = "deploy"  # no per-source token exists for it: the shared alert token applies

log = structlog.get_logger(__name__)


class _BadEvent(Exception):
    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class DeployWebhook:
    tokens: WebhookTokens
    deploys: DeployLog
    catalog: Catalog
    body_timeout: float = BODY_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.time

    async def handle(self, request: web.Request) -> web.Response:
        if not self.tokens.accepts(TOKEN_SOURCE, request.headers.get("Authorization", "")):
            log.warning("rejected a deploy event without a valid token")
            return problem_response(
                401, "missing or wrong Authorization: Bearer token", "Authorization"
            )
        try:
            body = await read_body(request, max_bytes=MAX_BODY_BYTES, within=self.body_timeout)
            event = self._parse(body)
        except BodyTooLarge as error:
            return too_large(error)
        except BodyTooSlow as error:
            return too_slow(error)
        except _BadEvent as error:
            return problem_response(error.status, f"invalid deploy event: {error}", error.field)
        return await self._store(event)

    def _parse(self, body: bytes) -> DeployEvent:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise _BadEvent("$", "body is not valid JSON") from None
        try:
            event = DeployEvent.model_validate(payload)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "$"
            raise _BadEvent(field, str(first["msg"])) from None
        if self.catalog.get(event.service) is None:
            closest = self.catalog.closest(event.service)
            hint = f"did you mean {', '.join(closest)}?" if closest else "add it to the catalog"
            raise _BadEvent("service", f"unknown service {event.service!r}: {hint}", 404)
        return event

    async def _store(self, event: DeployEvent) -> web.Response:
        change = event.as_change(received_at=self.clock())
        try:
            await self.deploys.record(event.service, change)
        except (StoreUnavailable, TimeoutError) as error:
            log.warning("could not store a deploy event", reason=type(error).__name__)
            return problem_response(
                503,
                "deploy store unavailable; retry later",
                "$",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.info("deploy event stored", service=event.service, at=change.at)
        answer = DeployStored(service=event.service, at=change.at)
        return web.json_response(answer.model_dump(), status=202)


def add_deploy_routes(
    app: web.Application,
    *,
    token: str | Sequence[str],
    deploys: DeployLog,
    catalog: Catalog,
    body_timeout: float = BODY_TIMEOUT_SECONDS,
) -> None:
    handler = DeployWebhook(WebhookTokens.of(token), deploys, catalog, body_timeout)
    app.router.add_post(PATH, handler.handle)
