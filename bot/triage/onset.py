"""When each signal moved in the window, to tell a cause from the symptoms it inflates.

A blocked loop inflates every timing it measures, GC pauses read as loop lag, pool waits as
query time: the signal that moved first is the likelier cause. A signal "moves" when it first
climbs half-way from its level at the start of the window to its peak; a signal already high
when the window starts, or that never rises much, has no onset inside the window.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Finding, SeriesPoint

RISE_FACTOR = 1.5  # the peak must be this much above the starting level to count as a move
START_SHARE = 0.2  # the first fifth of the window is the starting level
LEAD_SECONDS = 30.0  # one onset this much before another is "first", else "together"


def onset(points: Sequence[SeriesPoint]) -> float | None:
    """The time the series first rose half-way to its peak, or None (no move in the window)."""
    if len(points) < 4:
        return None
    head = points[: max(2, int(len(points) * START_SHARE))]
    start = min(point.v for point in head)
    peak = max(point.v for point in points)
    if peak <= 0 or peak < RISE_FACTOR * max(start, 0.0) or peak == start:
        return None
    halfway = start + (peak - start) / 2
    return next((p.t for p in points if p.v >= halfway), None)


def finding_onset(finding: Finding | None) -> float | None:
    """The onset of a finding's first chart series (its headline signal)."""
    if finding is None or not finding.evidence.series:
        return None
    first = next(iter(finding.evidence.series.values()))
    return onset(first)


def order_sentence(first: tuple[str, float | None], second: tuple[str, float | None]) -> str:
    """ "The event loop moved first; database time followed 45 s later." or "" when unknown."""
    (first_name, first_at), (second_name, second_at) = first, second
    if first_at is None or second_at is None:
        return ""
    gap = second_at - first_at
    if abs(gap) < LEAD_SECONDS:
        return f" {_capital(first_name)} and {second_name} moved together."
    if gap > 0:
        return f" {_capital(first_name)} moved first; {second_name} followed {gap:.0f} s later."
    return f" {_capital(second_name)} moved first, {-gap:.0f} s before {first_name}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
