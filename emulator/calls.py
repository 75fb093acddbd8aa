"""Reading a Web API request the way Slack does, and the context a method handler receives."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator.records import JsonObject
from emulator.state import EmulatorState

TRUE_VALUES = frozenset({"1", "true", "yes"})


class ApiError(Exception):
    """A Slack error answer: HTTP 200 with ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> JsonObject:
        body: JsonObject = {"ok": False, "error": self.error}
        if self.messages:
            body["errors"] = self.messages
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body


class MissingScope(ApiError):
    """The token lacks the scope the method needs: Slack names it and what the token has."""

    def __init__(self, needed: str, provided: list[str]) -> None:
        super().__init__("missing_scope")
        self.needed = needed
        self.provided = provided

    def body(self) -> JsonObject:
        return {**super().body(), "needed": self.needed, "provided": ",".join(self.provided)}


@dataclass(frozen=True)
class Arguments:
    """Method arguments from the query string, a form body or a JSON body, merged."""

    values: Mapping[str, Any]

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def required(self, name: str, error: str = "invalid_arguments") -> str:
        value = self.text(name)
        if value is None:
            raise ApiError(error, f"missing required field: {name}")
        return value

    def json(self, name: str, error: str) -> Any:
        """A JSON argument, given either as a JSON string (forms) or as JSON itself."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(error, f"{name} is not valid JSON") from None

    def flag(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        return str(value).lower() in TRUE_VALUES


@dataclass
class CallContext:
    """What a method handler gets: its arguments, the workspace and where it is served."""

    method: str
    args: Arguments
    state: EmulatorState
    origin: str  # e.g. "http://127.0.0.1:8090"
    channel: str | None = None  # the channel the call concerned, for the call log


MethodHandler = Callable[[CallContext], JsonObject]


async def read_arguments(request: web.Request) -> Arguments:
    values: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        values.update(await _json_body(request))
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        values.update({key: value for key, value in form.items() if isinstance(value, str)})
    return Arguments(values)


async def _json_body(request: web.Request) -> JsonObject:
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError("invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError("json_not_object")
    # Slack ignores a token inside a JSON body; it must come in the Authorization header.
    body.pop("token", None)
    return body


def token_of(request: web.Request, args: Arguments) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip() or None
    return args.text("token")
