"""The look-back window a triage reads, parsed from text such as `10m`, `2h` or `7d`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

DEFAULT_WINDOW = "10m"  # how far back a triage looks unless asked otherwise
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 30 * 86_400
TARGET_POINTS = 100
MIN_STEP_SECONDS = 15
SHORT_WINDOW_SECONDS = 300
SHORT_WINDOW_POINTS = 60
_WINDOW_TEXT = re.compile(r"(\d+)(s|m|h|d|w)\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class WindowError(ValueError):
    """A window that cannot be used; the message says what a valid one looks like."""


@dataclass(frozen=True)
class Window:
    """A closed time range ending at `end` (unix seconds) with the query resolution `step`."""

    text: str
    seconds: int
    end: float

    @property
    def start(self) -> float:
        return self.end - self.seconds

    @property
    def step(self) -> float:
        """Query resolution. Short windows (a fault that just began) are read at one point
        every `seconds / 60` so a trend shows within seconds of the first scrape; longer
        ones at `TARGET_POINTS` points, never finer than `MIN_STEP_SECONDS`."""
        if self.seconds <= SHORT_WINDOW_SECONDS:
            return float(max(1, math.ceil(self.seconds / SHORT_WINDOW_POINTS)))
        return float(max(MIN_STEP_SECONDS, math.ceil(self.seconds / TARGET_POINTS)))

    @property
    def rate_window(self) -> str:
        """Range used inside `rate()`: a few steps wide so sparse scrapes still give a value."""
        seconds = max(60, int(self.step * 4))
        return f"{seconds}s" if seconds % 60 else f"{seconds // 60}m"


def parse_window(text: str, *, end: float) -> Window:
    """Parse `text` (a whole number and one of s, m, h, d, w) between 1m and 30d."""
    cleaned = text.strip().lower()
    match = _WINDOW_TEXT.match(cleaned)
    if not match:
        raise WindowError(
            f"window {text!r} is not understood: use a number and a unit, such as 10m, 2h or 7d"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise WindowError(f"window {text!r} is out of range: pick something from 1m to 30d")
    return Window(text=cleaned, seconds=seconds, end=end)
