"""Timestamp field types shared by the source models."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainValidator

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
# Epochs above this are in milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_MILLISECOND_EPOCHS_FROM = 100_000_000_000


def parse_rfc3339(value: object) -> datetime:
    """An aware datetime from an RFC 3339 string; Go's nanosecond fractions are truncated."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 timestamp")
    normalised = value.upper().replace(" ", "T")
    fraction = re.search(r"\.(\d+)", normalised)
    if fraction and len(fraction.group(1)) > 6:
        normalised = normalised.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    try:
        return datetime.fromisoformat(normalised)
    except ValueError:
        raise ValueError("not an RFC 3339 timestamp") from None


def parse_epoch(value: object) -> datetime:
    """An aware datetime from Unix seconds or milliseconds, as a number or a string of digits."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a Unix timestamp")
    try:
        number = float(value)
    except ValueError:
        raise ValueError("not a Unix timestamp") from None
    if not number > 0:
        raise ValueError("not a Unix timestamp")
    seconds = number / 1000 if number >= _MILLISECOND_EPOCHS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("not a Unix timestamp") from None


def optional_epoch(value: object) -> datetime | None:
    """Like parse_epoch, but null, an empty string and zero mean "not set"."""
    if value is None or value in ("", 0, "0"):
        return None
    return parse_epoch(value)


def is_unset(moment: datetime) -> bool:
    """Alertmanager and Grafana write Go's zero time (year 1) for a time that is not set."""
    return moment.year == 1


Rfc3339 = Annotated[datetime, PlainValidator(parse_rfc3339)]
Epoch = Annotated[datetime, PlainValidator(parse_epoch)]
OptionalEpoch = Annotated[datetime | None, PlainValidator(optional_epoch)]
