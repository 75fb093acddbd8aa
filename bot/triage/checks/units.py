"""How checks show values: in the units people read, rounded for evidence."""

from __future__ import annotations

from bot.triage import series as stats

MIB = 1_048_576


def scaled(points: stats.Points, factor: float) -> stats.Points:
    """Points in the unit a chart shows: seconds to ms (1000), a ratio to percent (100)."""
    return [(t, v * factor) for t, v in points]


def ms(seconds: float | None) -> str:
    """Seconds as a short millisecond (or second) figure people read at a glance."""
    if seconds is None:
        return "n/a"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio * 100:.1f}%" if ratio < 0.1 else f"{ratio * 100:.0f}%"


def mebibytes(size: float | None) -> str:
    if size is None:
        return "n/a"
    return f"{size / MIB:.0f} MiB"


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
