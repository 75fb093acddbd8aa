"""The HTTP API described as OpenAPI 3.1, from the same pydantic models that parse and answer
each route, served at GET /openapi.json.

Every route is one `Operation` in `HTTP_API` (the alert routes come from the alert source
registry), so documenting a new route is one line, e.g.::

    Operation("POST", "/events/deploy", "Record a deploy", {202: Reply("Stored", DeployStored),
              **PROBLEMS}, body=DeployEvent, auth="webhookToken"),

`tests/app/test_openapi.py` fails when the app serves a route this list does not describe, or
the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.alerts.sources import SOURCES
from bot.alerts.sources.grafana import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.deploys.model import DeployEvent, DeployStored
from bot.http.schemas import AlertsAccepted, Alive, Problem, ReadinessAnswer

Auth = Literal["webhookToken", "metricsToken", "slackSignature"]
OPENAPI_PATH = "/openapi.json"
JSON = "application/json"


@dataclass(frozen=True)
class Reply:
    description: str
    model: type[BaseModel] | None = None
    media_type: str = JSON
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: Literal["GET", "POST"]
    path: str
    summary: str
    responses: Mapping[int, Reply]
    body: type[BaseModel] | None = None
    raw_body: Mapping[str, Any] | None = None  # media type -> schema, for bodies without a model
    auth: Auth | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())  # optional (name, description)


def _problem(description: str) -> Reply:
    return Reply(description, Problem)


PROBLEMS: dict[int, Reply] = {
    400: _problem("The body cannot be used; `field` names where and `problem` says why"),
    401: _problem("Missing or wrong credentials; `field` names the header"),
    408: _problem("The body did not arrive within BOT_HTTP_BODY_TIMEOUT"),
    413: _problem("The body is larger than the route accepts"),
}


def _alert_operation(name: str) -> Operation:
    source = SOURCES[name]
    headers = (
        (
            (SIGNATURE_HEADER, "HMAC-SHA256 of the body, when GRAFANA_WEBHOOK_SECRET is set"),
            (TIMESTAMP_HEADER, "Unix time included in the signature, refused after 5 minutes"),
        )
        if name == "grafana"
        else ()
    )
    return Operation(
        "POST",
        f"/alerts/{name}",
        f"Alert webhook: {source.summary}",
        {
            202: Reply("Stored (or recognised as a repeat)", AlertsAccepted),
            **PROBLEMS,
            503: Reply("The store is down; retry later", Problem, headers=("Retry-After",)),
        },
        body=source.payload,
        auth="webhookToken",
        headers=headers,
    )


HTTP_API: list[Operation] = [
    *(_alert_operation(name) for name in SOURCES),
    Operation(
        "POST",
        "/slack/events",
        "Slash commands, buttons and events from Slack (v0 signature, 5-minute window)",
        {
            200: Reply("Bolt's answer to Slack", media_type="*/*"),
            404: Reply("Nothing listens to this kind of request", media_type="*/*"),
            **PROBLEMS,
        },
        raw_body={
            "application/x-www-form-urlencoded": {
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            JSON: {"type": "object"},
        },
        auth="slackSignature",
    ),
    Operation(
        "POST",
        "/events/deploy",
        "Record a deploy, listed under What changed and blamed if a problem began right after",
        {
            202: Reply("Stored (a repeat is stored once)", DeployStored),
            **PROBLEMS,
            404: _problem("The catalog has no such service; `error` suggests the closest"),
            503: Reply("The store is down; retry later", Problem, headers=("Retry-After",)),
        },
        body=DeployEvent,
        auth="webhookToken",
    ),
    Operation("GET", "/healthz", "The process is alive", {200: Reply("Alive", Alive)}),
    Operation(
        "GET",
        "/readyz",
        "Ready when the store answers and Slack accepted the token",
        {200: Reply("Ready", ReadinessAnswer), 503: Reply("Not ready", ReadinessAnswer)},
    ),
    Operation(
        "GET",
        "/metrics",
        "Prometheus metrics of this process",
        {
            200: Reply("Prometheus text exposition", media_type="text/plain"),
            401: PROBLEMS[401],
        },
        auth="metricsToken",
    ),
    Operation("GET", OPENAPI_PATH, "This description", {200: Reply("OpenAPI 3.1")}),
]

_SECURITY_SCHEMES = {
    "webhookToken": {"type": "http", "scheme": "bearer", "description": "ALERT_WEBHOOK_TOKEN"},
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN, if set"},
    "slackSignature": {"type": "apiKey", "in": "header", "name": "X-Slack-Signature"},
}


@cache
def openapi_document() -> dict[str, Any]:
    models = _models(HTTP_API)
    refs, schemas = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    ref_of = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for operation in HTTP_API:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            operation, ref_of
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "triage-bot HTTP API",
            "version": "1",
            "description": "Alert webhooks, Slack's requests, health, readiness and metrics.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": _SECURITY_SCHEMES,
        },
    }


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    found: dict[type[BaseModel], None] = {}
    for operation in operations:
        if operation.body is not None:
            found[operation.body] = None
        for reply in operation.responses.values():
            if reply.model is not None:
                found[reply.model] = None
    return list(found)


def _operation(operation: Operation, ref_of: Mapping[type[BaseModel], Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": f"{operation.method.lower()}{operation.path}".replace("/", "_"),
        "responses": {
            str(status): _reply(reply, ref_of) for status, reply in operation.responses.items()
        },
    }
    if operation.auth is not None:
        described["security"] = [{operation.auth: []}]
    if operation.headers:
        described["parameters"] = [
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in operation.headers
        ]
    if operation.body is not None:
        content = {JSON: {"schema": ref_of[operation.body]}}
        described["requestBody"] = {"required": True, "content": content}
    elif operation.raw_body is not None:
        content = {media: {"schema": schema} for media, schema in operation.raw_body.items()}
        described["requestBody"] = {"required": True, "content": content}
    return described


def _reply(reply: Reply, ref_of: Mapping[type[BaseModel], Any]) -> dict[str, Any]:
    described: dict[str, Any] = {"description": reply.description}
    schema = ref_of[reply.model] if reply.model is not None else {}
    described["content"] = {reply.media_type: {"schema": schema}}
    if reply.headers:
        described["headers"] = {name: {"schema": {"type": "string"}} for name in reply.headers}
    return described


async def openapi_json(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_openapi_route(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, openapi_json)
