"""Turning malformed webhook payloads into one clear error that names the bad field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from bot.validation import field_path, problem_message

ModelT = TypeVar("ModelT", bound=BaseModel)

_PROBLEMS = {
    "missing": "required field is missing",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "tuple_type": "must be a JSON array",
    "greater_than_equal": "must not be negative",
    "string_too_short": "must not be empty",
}


class AlertPayloadError(ValueError):
    """A webhook payload that cannot be turned into alerts.

    ``field_path`` points into the JSON document (``alerts[3].startsAt``; ``$`` is the
    document itself) and ``problem`` says what is wrong with the value found there.
    """

    def __init__(self, field_path: str, problem: str) -> None:
        super().__init__(f"{field_path}: {problem}")
        self.field_path = field_path
        self.problem = problem


class RejectedAlert(BaseModel):
    """One alert of a group that could not be understood; the rest of the group is kept.

    `reason` is the kind of problem (a short, bounded word, for the metric).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    field: str
    problem: str
    reason: str


def validate_payload(model: type[ModelT], payload: object) -> ModelT:
    """Validate decoded JSON against a source's model, reporting the first bad field."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise payload_error(error) from None


def validate_group(
    model: type[ModelT], payload: object, field: str = "alerts"
) -> tuple[ModelT, tuple[RejectedAlert, ...]]:
    """Validate a group of alerts, keeping the good ones when only some alerts are bad.

    A sender such as Alertmanager drops a whole group on any 4xx, so one malformed alert must
    not cost the others: each bad alert is named (with its first problem) and left out. Raises
    AlertPayloadError when the group itself is wrong, or when no alert of it is good.
    """
    try:
        return model.model_validate(payload), ()
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
    bad = _bad_items(problems, field)
    items = payload.get(field) if isinstance(payload, dict) else None
    if bad is None or not isinstance(items, list) or len(bad) == len(items):
        raise payload_error(problems[0]) from None
    kept = [item for index, item in enumerate(items) if index not in bad]
    message = validate_payload(model, {**payload, field: kept})  # type: ignore[dict-item]
    rejected = tuple(
        RejectedAlert(
            index=index,
            field=field_path(detail["loc"]),
            problem=_problem(detail),
            reason=detail["type"][:40],
        )
        for index, detail in sorted(bad.items())
    )
    return message, rejected


def _bad_items(problems: Sequence[ErrorDetails], field: str) -> dict[int, ErrorDetails] | None:
    """The first problem of each bad item of `field`; None if anything else is wrong."""
    bad: dict[int, ErrorDetails] = {}
    for detail in problems:
        location = detail["loc"]
        if len(location) < 2 or location[0] != field or not isinstance(location[1], int):
            return None
        bad.setdefault(location[1], detail)
    return bad


def payload_error(error: ValidationError | ErrorDetails) -> AlertPayloadError:
    first = (
        error.errors(include_url=False, include_input=False)[0]
        if isinstance(error, ValidationError)
        else error
    )
    return AlertPayloadError(field_path(first["loc"]), _problem(first))


def _problem(detail: ErrorDetails) -> str:
    if detail["type"] == "literal_error":
        return detail["msg"].replace("Input should be", "must be")
    return problem_message(detail, _PROBLEMS, lowercase=detail["type"] != "value_error")
