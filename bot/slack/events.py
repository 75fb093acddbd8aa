"""POST /slack/events: verify Slack's signature ourselves, bound the request, then hand it to Bolt.

Bolt's own verifier logs the request body when a check fails; ours logs nothing from the request.
Before Bolt sees a signed request it must also be small (Slack's payloads stay far below
`MAX_EVENT_BODY_BYTES`), nest JSON no deeper than `MAX_JSON_DEPTH`, carry `response_url`s only
on Slack's own origin (a setting widens it for the local emulator), so a forged or mangled
payload cannot make the bot post anywhere else, and have the shape Bolt expects
(`bot.slack.shapes`); kinds nothing listens to are acknowledged without dispatching them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.http.limits import (
    BodyTooLarge,
    BodyTooSlow,
    nesting_problem,
    problem_response,
    read_body,
    too_large,
    too_slow,
)
from bot.settings import SLACK_RESPONSE_URL_ORIGIN
from bot.slack.shapes import NotHandled, request_problem

log = structlog.get_logger(__name__)

MAX_EVENT_BODY_BYTES = 1024 * 1024
BODY_TIMEOUT_SECONDS = 30.0
SIGNATURE_HEADER = "X-Slack-Signature"


@dataclass(frozen=True)
class SlackEndpoint:
    bolt: AsyncApp
    verifier: SignatureVerifier
    response_origins: frozenset[str]
    body_timeout: float = BODY_TIMEOUT_SECONDS

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body = await read_body(
                request, max_bytes=MAX_EVENT_BODY_BYTES, within=self.body_timeout
            )
        except BodyTooLarge as error:
            return too_large(error)
        except BodyTooSlow as error:
            return too_slow(error)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not _is_signed(self.verifier, body, timestamp, signature):
            log.warning("rejected a Slack request with a missing, wrong or stale signature")
            return problem_response(401, "invalid signature", SIGNATURE_HEADER)
        text = body.decode("utf-8", "replace")
        try:
            problem = self._payload_problem(text, request.content_type)
        except NotHandled:
            return web.Response(status=200)  # acknowledged, so Slack does not retry it
        if problem is not None:
            field, message = problem
            log.warning("refused a signed Slack request", field=field, problem=message)
            return problem_response(400, message, field)
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    def _payload_problem(self, text: str, content_type: str) -> tuple[str, str] | None:
        try:
            document = _decoded(text, content_type)
        except RecursionError:
            return "$", "body nests arrays or objects far too deep"
        except ValueError:
            return "$", "body is not the form or JSON that Slack sends"
        too_deep = nesting_problem(document)
        if too_deep:
            return too_deep
        for field, url in _response_urls(document):
            if not self._allowed(url):
                return field, "response_url is not on Slack's own host"
        return request_problem(document)

    def _allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}".lower()
        except ValueError:
            return False
        return origin in self.response_origins


def _is_signed(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
    if not timestamp.isdigit() or not signature:
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _decoded(text: str, content_type: str) -> Any:
    """The request as Slack structures it: a JSON event, or a form whose `payload` is JSON."""
    if content_type == "application/json":
        return json.loads(text) if text.strip() else {}
    form = {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        return {**form, "payload": json.loads(form["payload"])}
    return form


def _response_urls(document: Any) -> Iterator[tuple[str, str]]:
    """Every response_url Bolt could post to: a command's, an action's, a view submission's."""
    if not isinstance(document, dict):
        return
    payload = document.get("payload", document)
    for where, holder in (("response_url", document), ("payload.response_url", payload)):
        if isinstance(holder, dict) and "response_url" in holder:
            yield where, str(holder["response_url"])
    listed = payload.get("response_urls") if isinstance(payload, dict) else None
    if isinstance(listed, list):
        for index, entry in enumerate(listed):
            if isinstance(entry, dict) and "response_url" in entry:
                yield f"payload.response_urls[{index}].response_url", str(entry["response_url"])


def add_slack_routes(
    app: web.Application,
    bolt: AsyncApp,
    signing_secret: str,
    *,
    response_origins: Sequence[str] = (SLACK_RESPONSE_URL_ORIGIN,),
    body_timeout: float = BODY_TIMEOUT_SECONDS,
) -> None:
    endpoint = SlackEndpoint(
        bolt,
        SignatureVerifier(signing_secret),
        frozenset(origin.lower().rstrip("/") for origin in response_origins),
        body_timeout,
    )
    app.router.add_post("/slack/events", endpoint.handle)
