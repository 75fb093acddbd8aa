"""Timestamp field types shared by the source models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainValidator, WithJsonSchema

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
# Epochs above this are in milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_MILLISECOND_EPOCHS_FROM = 100_000_000_000
# 1e14 ms is the year 5138 too; anything larger is not a time anyone means.
MAX_EPOCH = 100_000_000_000_000
_EPOCH_TEXT = re.compile(r"[1-9][0-9]{0,13}(?:\.[0-9]{1,9})?", re.ASCII)


def parse_rfc3339(value: object) -> datetime:
    """An aware datetime from an RFC 3339 string; Go's nanosecond fractions are truncated."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 timestamp")
    normalised = value.upper().replace(" ", "T")
    fraction = re.search(r"\.(\d+)", normalised)
    if fraction and len(fraction.group(1)) > 6:
        normalised = normalised.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    try:
        moment = datetime.fromisoformat(normalised)
    except ValueError:
        raise ValueError("not an RFC 3339 timestamp") from None
    return _within_range(moment)


def _within_range(moment: datetime) -> datetime:
    """A time near year 1 or 9999 whose offset would take it out of Python's range in UTC
    (Go's zero time with an offset, say) is pinned to the end of the range it is close to."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)
    return moment


def parse_epoch(value: object) -> datetime:
    """An aware datetime from Unix seconds or milliseconds, as a number or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a Unix timestamp")
    if isinstance(value, str) and not _EPOCH_TEXT.fullmatch(value):
        raise ValueError("not a Unix timestamp")
    number = float(value)
    if not 0 < number <= MAX_EPOCH:
        raise ValueError("not a Unix timestamp")
    seconds = number / 1000 if number >= _MILLISECOND_EPOCHS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("not a Unix timestamp") from None


def optional_epoch(value: object) -> datetime | None:
    """Like parse_epoch, but null, an empty string and zero mean "not set"."""
    if value is None or (not isinstance(value, bool) and value in ("", 0, "0")):
        return None
    return parse_epoch(value)


def is_unset(moment: datetime) -> bool:
    """Alertmanager and Grafana write Go's zero time (year 1) for a time that is not set."""
    return moment.year == 1


_EPOCH_SCHEMA = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_EPOCH},
        {"type": "string", "pattern": r"^[1-9][0-9]{0,13}(\.[0-9]{1,9})?$"},
    ],
    "description": "Unix time in seconds or milliseconds",
}

Rfc3339 = Annotated[
    datetime,
    PlainValidator(parse_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Epoch = Annotated[datetime, PlainValidator(parse_epoch), WithJsonSchema(_EPOCH_SCHEMA)]
OptionalEpoch = Annotated[
    datetime | None,
    PlainValidator(optional_epoch),
    WithJsonSchema({"anyOf": [_EPOCH_SCHEMA, {"type": "null"}, {"enum": ["", 0, "0"]}]}),
]
