"""The one translation of pydantic's validation errors into sentences a person can act on.

Each reader (settings, catalog, playbook, webhook payloads) keeps its own vocabulary in a table
of phrases by pydantic error type; everything else reads pydantic's own message, without its
"Value error, " prefix and, unless asked otherwise, starting in lower case:

    problem_message(detail, {"missing": "is required"})      # "is required"
    field_path(("alerts", 3, "startsAt"))                     # "alerts[3].startsAt"

A phrase may name the rejected value (`{input}`) and the constraint (`{gt}`, `{expected}`...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ROOT_PATH = "$"
VALUE_ERROR_PREFIX = "Value error, "


def problem_message(
    detail: Mapping[str, Any],
    phrases: Mapping[str, str] | None = None,
    *,
    kind: str | None = None,
    lowercase: bool = True,
) -> str:
    """What is wrong with one value, from one of `ValidationError.errors()`; `kind` overrides
    the detail's own type when choosing a phrase."""
    kind = kind or str(detail["type"])
    if phrases and kind in phrases:
        context = dict(detail.get("ctx") or {})
        return phrases[kind].format(input=detail.get("input"), **context)
    message = str(detail["msg"]).removeprefix(VALUE_ERROR_PREFIX)
    return message[:1].lower() + message[1:] if lowercase else message


def field_path(location: Sequence[int | str]) -> str:
    """``("alerts", 3, "startsAt")`` -> ``alerts[3].startsAt``; ``$`` for the document."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or ROOT_PATH


def dotted_path(location: Sequence[int | str], skip: frozenset[str] = frozenset()) -> str:
    """``("services", "checkout", "slo")`` -> ``services.checkout.slo``, leaving out `skip`
    (the tags pydantic adds for the branches of a union)."""
    return ".".join(str(part) for part in location if str(part) not in skip)
