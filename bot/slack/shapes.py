"""The shapes of the Slack requests the bot serves, checked before Bolt reads them.

Bolt trusts a signed payload's shape: a view submission whose `view` is null, or a click
whose `user` is a number, makes its own middleware fail with a 500. These models hold what
Bolt and the listeners dereference; anything else in a payload passes through untouched.
Requests of kinds the bot has no listener for are answered before Bolt sees them.

    problem = request_problem({"command": "/triage", "user_id": "U0ALICE", ...})
    # None, or ("payload.user.id", "required field is missing")
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.alerts.errors import payload_error
from bot.slack.ids import USER_ID_PATTERN

HANDLED_EVENTS = frozenset({"app_home_opened"})


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Envelope(_Open):
    """Keys Bolt's own middleware reads on every request, when present: never null there."""

    event: dict[str, Any] = Field(default_factory=dict)
    authorizations: list[dict[str, Any]] = Field(default_factory=list)


class _Ref(_Open):
    id: str | None = None


class _User(_Open):
    id: str = Field(pattern=USER_ID_PATTERN)


class _Action(_Open):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    type: str | None = None


class _Interactive(_Envelope):
    type: str
    user: _User
    team: _Ref | None = None
    enterprise: _Ref | None = None
    channel: _Ref | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    api_app_id: str | None = None


class _BlockActions(_Interactive):
    type: Literal["block_actions"]
    actions: list[_Action] = Field(min_length=1)


class _SlashCommand(_Envelope):
    command: str
    user_id: str = Field(pattern=USER_ID_PATTERN)
    channel_id: str | None = None
    team_id: str | None = None
    text: str | None = None
    response_url: str | None = None


class _Event(_Open):
    type: str
    user: str | None = Field(default=None, pattern=USER_ID_PATTERN)
    tab: str | None = None
    channel: str | None = None


class _EventCallback(_Envelope):
    type: Literal["event_callback"]
    event: _Event  # type: ignore[assignment]
    event_id: str
    team_id: str | None = None
    api_app_id: str | None = None


class _UrlVerification(_Envelope):
    type: Literal["url_verification"]
    challenge: str


class NotHandled(Exception):
    """A well-formed request of a kind no listener takes (a view submission, a shortcut…)."""


def request_problem(document: Any) -> tuple[str, str] | None:
    """Why Bolt should not be given this request: (field, problem); raises NotHandled for a
    kind the bot does not serve."""
    if not isinstance(document, dict):
        return "$", "must be a JSON object or a form"
    if "payload" in document:
        return _checked(_interactive_model(document["payload"]), document["payload"], "payload")
    if "command" in document:
        return _checked(_SlashCommand, document, "")
    kind = document.get("type")
    if kind == "url_verification":
        return _checked(_UrlVerification, document, "")
    if kind == "event_callback":
        problem = _checked(_EventCallback, document, "")
        if problem is None and document["event"]["type"] not in HANDLED_EVENTS:
            raise NotHandled
        return problem
    raise NotHandled


def _interactive_model(payload: Any) -> type[_Open]:
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "block_actions":
        return _BlockActions
    if isinstance(kind, str):
        raise NotHandled
    return _Interactive  # reports what is missing or wrong


def _checked(model: type[_Open], value: Any, prefix: str) -> tuple[str, str] | None:
    try:
        model.model_validate(value)
    except ValidationError as error:
        problem = payload_error(error)
        field = problem.field_path
        if prefix:
            field = prefix if field == "$" else f"{prefix}.{field}".replace(".[", "[")
        return field, problem.problem
    return None
