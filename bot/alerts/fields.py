"""Number fields that accept exactly what JSON Schema calls an integer: no booleans, no
numeric strings, and 3.0 as well as 3 (so the payload models and /openapi.json agree)."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge
from pydantic import BeforeValidator, StrictInt, WithJsonSchema


def _json_integer(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[StrictInt, BeforeValidator(_json_integer)]
# The schema is spelled out: pydantic cannot carry a bound past a before-validator.
NonNegativeJsonInt = Annotated[JsonInt, Ge(0), WithJsonSchema({"type": "integer", "minimum": 0})]
