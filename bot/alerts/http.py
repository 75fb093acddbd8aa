"""POST /alerts/{source}: authenticate, parse and store alert webhook notifications.

Answers are chosen for senders that retry: 202 only once the sink has stored the batch, 503
with Retry-After while the store is down (Alertmanager, Grafana and Datadog retry 5xx), and 4xx
only for requests that no retry could fix: a wrong token (401), an unknown source (404), an
unreadable payload (400, naming the bad field) or a body over 16 MiB (413). One malformed alert
does not cost its group: the others are stored and acknowledged (202), and the bad ones are
named in the answer's `rejected`, the log and `bot_alerts_rejected_total`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from aiohttp import web

from bot.alerts.errors import ROOT_PATH, AlertPayloadError
from bot.alerts.model import AlertBatch
from bot.alerts.sink import AcceptResult, AlertSink
from bot.alerts.sources import SOURCES, Parser
from bot.alerts.sources.grafana import signature_problem
from bot.store.base import StoreUnavailable
from bot.telemetry import ALERTS_REJECTED

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024
# Decoding and validating more than this would hold the event loop for milliseconds.
OFFLOAD_PARSING_FROM_BYTES = 256 * 1024
ACCEPT_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 30
LOGGED_REJECTIONS = 5
BEARER_PREFIX = "bearer "


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class AlertWebhook:
    """The request handler, holding what every request needs."""

    token: bytes
    sink: AlertSink
    sources: Mapping[str, Parser]
    grafana_secret: str | None = None

    async def handle(self, request: web.Request) -> web.Response:
        source = request.match_info["source"]
        if not self._has_valid_token(request):
            log.warning("rejected an alert webhook without a valid token", source=source)
            return _error(401, "missing or wrong Authorization: Bearer token")
        parser = self.sources.get(source)
        if parser is None:
            return _error(404, f"unknown alert source; known sources: {', '.join(self.sources)}")
        try:
            body = await _read_body(request)
        except BodyTooLarge:
            return _error(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        if source == "grafana" and self.grafana_secret:
            problem = signature_problem(self.grafana_secret, body, request.headers)
            if problem:
                log.warning("rejected a Grafana webhook", source=source, reason=problem)
                return _error(401, problem)
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
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        _log_batch(batch, result)
        _note_rejected(batch)
        return web.json_response(_summary(batch, result), status=202)

    async def _store(self, batch: AlertBatch) -> AcceptResult:
        if not batch.alerts:
            return AcceptResult(accepted=0)
        async with asyncio.timeout(ACCEPT_TIMEOUT_SECONDS):
            return await self.sink.accept(batch)

    def _has_valid_token(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
            return False
        offered = header[len(BEARER_PREFIX) :].strip().encode("utf-8", "replace")
        return hmac.compare_digest(offered, self.token)


def add_alert_routes(
    app: web.Application,
    *,
    token: str,
    sink: AlertSink,
    grafana_secret: str | None = None,
    sources: Mapping[str, Parser] | None = None,
) -> None:
    """Serve POST /alerts/{source} for every parser in ``sources`` (default: the registry)."""
    if not token:
        raise ValueError("an alert webhook token is required: set ALERT_WEBHOOK_TOKEN")
    handler = AlertWebhook(
        token=token.encode(),
        sink=sink,
        sources=dict(SOURCES if sources is None else sources),
        grafana_secret=grafana_secret or None,
    )
    app.router.add_post("/alerts/{source}", handler.handle)


async def _read_body(request: web.Request) -> bytes:
    # Read the stream ourselves: the app's client_max_size may be smaller than our limit.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge
    body = bytearray()
    while chunk := await request.content.readany():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
    return bytes(body)


async def _parse(parser: Parser, body: bytes) -> AlertBatch:
    if len(body) >= OFFLOAD_PARSING_FROM_BYTES:
        return await asyncio.to_thread(_decode_and_parse, parser, body)
    return _decode_and_parse(parser, body)


def _decode_and_parse(parser: Parser, body: bytes) -> AlertBatch:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise AlertPayloadError(ROOT_PATH, "body is not valid JSON") from None
    return parser(payload)


def _summary(batch: AlertBatch, result: AcceptResult) -> dict[str, object]:
    summary: dict[str, object] = {
        "status": "accepted",
        "source": batch.source,
        "alerts": len(batch.alerts),
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "truncated_alerts": batch.truncated_alerts,
    }
    if batch.rejected:
        summary["rejected"] = [
            {"index": r.index, "field": r.field, "problem": r.problem} for r in batch.rejected
        ]
    return summary


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
        receiver=batch.receiver,
        count=len(batch.alerts),
        firing=firing,
        resolved=len(batch.alerts) - firing,
        accepted=result.accepted,
        duplicates=result.duplicates,
        truncated=batch.truncated_alerts,
    )


def _payload_error(error: AlertPayloadError) -> web.Response:
    body = {
        "error": f"invalid payload: {error}",
        "field": error.field_path,
        "problem": error.problem,
    }
    return web.json_response(body, status=400)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)
