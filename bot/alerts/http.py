"""POST /alerts/{source}: authenticate, parse and store alert webhook notifications.

Answers are chosen for senders that retry: 202 only once the sink has stored the batch, 503
with Retry-After while the store is down (Alertmanager, Grafana and Datadog retry 5xx), and 4xx
only for requests that no retry could fix: a wrong token (401), an unknown source (404), an
unreadable payload (400, naming the bad field), a body over 16 MiB (413) or one that did not
arrive in time (408). Every error names the field or header it is about. One malformed alert
does not cost its group: the others are stored and acknowledged (202), and the bad ones are
named in the answer's `rejected`, the log and `bot_alerts_rejected_total`.

Each source takes the shared token, or only its own when `source_tokens` gives it one; either
may list two tokens while senders move to a new one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.alerts.errors import AlertPayloadError
from bot.alerts.model import AlertBatch
from bot.alerts.sink import AcceptResult, AlertSink
from bot.alerts.sources import SOURCES, Parser
from bot.alerts.sources.grafana import SIGNATURE_HEADER, signature_problem
from bot.credentials import bearer_token, matches_any
from bot.http.limits import (
    BodyTooLarge,
    BodyTooSlow,
    nesting_problem,
    problem_response,
    read_body,
    too_large,
    too_slow,
)
from bot.http.schemas import AlertsAccepted, RejectedAlertAnswer
from bot.store.base import StoreUnavailable
from bot.telemetry import ALERT_WEBHOOKS, ALERTS_REJECTED
from bot.validation import ROOT_PATH

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024
# Decoding and validating more than this would hold the event loop for milliseconds.
OFFLOAD_PARSING_FROM_BYTES = 256 * 1024
ACCEPT_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 30
BODY_TIMEOUT_SECONDS = 30.0
LOGGED_REJECTIONS = 5


@dataclass(frozen=True)
class WebhookTokens:
    """Which bearer tokens each source accepts."""

    shared: tuple[bytes, ...]
    per_source: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, shared: str | Sequence[str], per_source: Mapping[str, Sequence[str]] | None = None
    ) -> WebhookTokens:
        listed = (shared,) if isinstance(shared, str) else tuple(shared)
        return cls(
            shared=tuple(token.encode() for token in listed if token),
            per_source={
                source: tuple(token.encode() for token in tokens)
                for source, tokens in (per_source or {}).items()
            },
        )

    def accepts(self, source: str, authorization: str) -> bool:
        return matches_any(bearer_token(authorization), self.per_source.get(source, self.shared))


@dataclass(frozen=True)
class AlertWebhook:
    """The request handler, holding what every request needs."""

    tokens: WebhookTokens
    sink: AlertSink
    sources: Mapping[str, Parser]
    grafana_secret: str | None = None
    body_timeout: float = BODY_TIMEOUT_SECONDS

    async def handle(self, request: web.Request) -> web.Response:
        source = request.match_info["source"]
        if not self.tokens.accepts(source, request.headers.get("Authorization", "")):
            log.warning("rejected an alert webhook without a valid token", source=source[:40])
            return _error(401, "missing or wrong Authorization: Bearer token", "Authorization")
        parser = self.sources.get(source)
        if parser is None:
            known = ", ".join(self.sources)
            return _error(404, f"unknown alert source; known sources: {known}", "source")
        try:
            body = await read_body(request, max_bytes=MAX_BODY_BYTES, within=self.body_timeout)
        except BodyTooLarge as error:
            return too_large(error)
        except BodyTooSlow as error:
            log.warning("cut off an alert webhook whose body came too slowly", source=source)
            return too_slow(error)
        if source == "grafana" and self.grafana_secret:
            problem = signature_problem(self.grafana_secret, body, request.headers)
            if problem:
                log.warning("rejected a Grafana webhook", source=source, reason=problem)
                return _error(401, problem, SIGNATURE_HEADER)
        return await self._parse_and_store(source, parser, body)

    async def _parse_and_store(self, source: str, parser: Parser, body: bytes) -> web.Response:
        try:
            batch = await _parse(parser, body)
        except AlertPayloadError as error:
            log.warning("rejected a malformed alert webhook", source=source, field=error.field_path)
            return _payload_error(error)
        try:
            result = await self._store(batch)
        except (StoreUnavailable, TimeoutError) as error:
            log.warning(
                "could not store alerts; asked the sender to retry",
                source=source,
                alerts=len(batch.alerts),
                reason=type(error).__name__,
            )
            return _error(
                503,
                "alert store unavailable; retry later",
                "$",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        _log_batch(batch, result)
        _note_rejected(batch)
        return web.json_response(_summary(batch, result).model_dump(), status=202)

    async def _store(self, batch: AlertBatch) -> AcceptResult:
        if not batch.alerts:
            return AcceptResult(accepted=0)
        async with asyncio.timeout(ACCEPT_TIMEOUT_SECONDS):
            return await self.sink.accept(batch)


def add_alert_routes(
    app: web.Application,
    *,
    token: str | Sequence[str],
    sink: AlertSink,
    source_tokens: Mapping[str, Sequence[str]] | None = None,
    grafana_secret: str | None = None,
    sources: Mapping[str, Parser] | None = None,
    body_timeout: float = BODY_TIMEOUT_SECONDS,
) -> None:
    """Serve POST /alerts/{source} for every parser in ``sources`` (default: the registry)."""
    tokens = WebhookTokens.of(token, source_tokens)
    if not tokens.shared and not tokens.per_source:
        raise ValueError("an alert webhook token is required: set ALERT_WEBHOOK_TOKEN")
    handler = AlertWebhook(
        tokens=tokens,
        sink=sink,
        sources=dict(SOURCES if sources is None else sources),
        grafana_secret=grafana_secret or None,
        body_timeout=body_timeout,
    )
    app.router.add_post("/alerts/{source}", _counted(handler))


def _counted(webhook: AlertWebhook) -> Handler:
    """Count each answer by source; a path no source serves counts as `unknown`, so a caller
    cannot add label values."""

    async def handle(request: web.Request) -> web.StreamResponse:
        source = request.match_info["source"]
        status = 500
        try:
            response = await webhook.handle(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            known = source if source in webhook.sources else "unknown"
            ALERT_WEBHOOKS.labels(source=known, status=str(status)).inc()

    return handle


async def _parse(parser: Parser, body: bytes) -> AlertBatch:
    if len(body) >= OFFLOAD_PARSING_FROM_BYTES:
        return await asyncio.to_thread(_decode_and_parse, parser, body)
    return _decode_and_parse(parser, body)


def _decode_and_parse(parser: Parser, body: bytes) -> AlertBatch:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise AlertPayloadError(ROOT_PATH, "body nests arrays or objects far too deep") from None
    except ValueError:
        raise AlertPayloadError(ROOT_PATH, "body is not valid JSON") from None
    too_deep = nesting_problem(payload)
    if too_deep:
        raise AlertPayloadError(*too_deep)
    return parser(payload)


def _summary(batch: AlertBatch, result: AcceptResult) -> AlertsAccepted:
    return AlertsAccepted(
        source=batch.source,
        alerts=len(batch.alerts),
        accepted=result.accepted,
        duplicates=result.duplicates,
        truncated_alerts=batch.truncated_alerts,
        rejected=[
            RejectedAlertAnswer(index=r.index, field=r.field, problem=r.problem)
            for r in batch.rejected
        ],
    )


def _note_rejected(batch: AlertBatch) -> None:
    """Alerts of the group that could not be read: counted, and named in the log."""
    if not batch.rejected:
        return
    for rejected in batch.rejected:
        ALERTS_REJECTED.labels(source=batch.source, reason=rejected.reason).inc()
    log.warning(
        "kept an alert group but refused some of its alerts",
        source=batch.source,
        rejected=len(batch.rejected),
        kept=len(batch.alerts),
        fields=[r.field for r in batch.rejected[:LOGGED_REJECTIONS]],
    )


def _log_batch(batch: AlertBatch, result: AcceptResult) -> None:
    firing = sum(1 for alert in batch.alerts if alert.status == "firing")
    # A repeat (retry, HA twin) changes nothing; during a storm logging each would cost more
    # than handling it.
    emit = log.debug if result.accepted == 0 else log.info
    emit(
        "alert batch stored",
        source=batch.source,
        count=len(batch.alerts),
        firing=firing,
        resolved=len(batch.alerts) - firing,
        accepted=result.accepted,
        duplicates=result.duplicates,
        truncated=batch.truncated_alerts,
    )


def _payload_error(error: AlertPayloadError) -> web.Response:
    return problem_response(
        400, f"invalid payload: {error}", error.field_path, problem=error.problem
    )


def _error(
    status: int, message: str, field: str, headers: dict[str, str] | None = None
) -> web.Response:
    return problem_response(status, message, field, headers)
