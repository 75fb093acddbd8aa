"""Small statistics over `(timestamp, value)` points, shared by the check kinds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.models import SeriesPoint
from bot.sources.base import RangeSeries

Points = Sequence[tuple[float, float]]
MAX_CHART_POINTS = 60


def finite(points: Points) -> list[tuple[float, float]]:
    return [(t, v) for t, v in points if math.isfinite(v)]


def values(points: Points) -> list[float]:
    return [v for _, v in finite(points)]


def quantile(data: Sequence[float], q: float) -> float | None:
    """Linear-interpolated quantile, or None for no data."""
    ordered = sorted(data)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def sustained(data: Sequence[float], share: float = 0.25) -> float | None:
    """The level held by at least `share` of the samples: robust to one-off spikes,
    but still sees a fault that started part-way through the window."""
    return quantile(data, 1.0 - share)


def share_at_or_above(data: Sequence[float], threshold: float) -> float:
    if not data:
        return 0.0
    return sum(1 for v in data if v >= threshold) / len(data)


@dataclass(frozen=True)
class Trend:
    """Least-squares line through a series."""

    slope_per_second: float
    r_squared: float
    first: float
    last: float

    @property
    def growth(self) -> float:
        """Fitted change over the series relative to its fitted start (0.2 = grew 20%)."""
        if self.first <= 0:
            return 0.0
        return (self.last - self.first) / self.first


def trend(points: Points) -> Trend | None:
    clean = finite(points)
    if len(clean) < 3:
        return None
    n = len(clean)
    mean_t = sum(t for t, _ in clean) / n
    mean_v = sum(v for _, v in clean) / n
    var_t = sum((t - mean_t) ** 2 for t, _ in clean)
    var_v = sum((v - mean_v) ** 2 for _, v in clean)
    if var_t == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in clean)
    slope = cov / var_t
    r_squared = 0.0 if var_v == 0 else (cov * cov) / (var_t * var_v)
    start_t, end_t = clean[0][0], clean[-1][0]
    first = mean_v + slope * (start_t - mean_t)
    last = mean_v + slope * (end_t - mean_t)
    return Trend(slope, r_squared, first, last)


def combine(series: Iterable[RangeSeries], how: Callable[[list[float]], float] = max) -> Points:
    """Fold several series into one, timestamp by timestamp (e.g. the worst instance)."""
    by_time: dict[float, list[float]] = {}
    for one in series:
        for t, v in finite(one.points):
            by_time.setdefault(t, []).append(v)
    return [(t, how(vs)) for t, vs in sorted(by_time.items())]


def total(vs: list[float]) -> float:
    return float(sum(vs))


def downsample(points: Points, limit: int = MAX_CHART_POINTS) -> list[SeriesPoint]:
    """At most `limit` points for a chart; each bucket keeps its largest value so spikes show."""
    clean = finite(points)
    if len(clean) > limit:
        size = math.ceil(len(clean) / limit)
        buckets = [clean[i : i + size] for i in range(0, len(clean), size)]
        clean = [(b[-1][0], max(v for _, v in b)) for b in buckets]
    # the values are finite floats already; skipping validation keeps this off the profile
    return [SeriesPoint.model_construct(t=t, v=v) for t, v in clean]


def series_name(labels: dict[str, str], preferred: Sequence[str]) -> str:
    """A readable name for one series: the first preferred label present, else all labels."""
    for key in preferred:
        if labels.get(key):
            return labels[key]
    visible = {k: v for k, v in labels.items() if not k.startswith("__")}
    return ",".join(f"{k}={v}" for k, v in sorted(visible.items())) or "all"


def instance_name(labels: dict[str, str], pod_label: str) -> str | None:
    """The pod's name where a series carries one, else its `instance` label."""
    return labels.get(pod_label) or labels.get("instance") or None


def floors(points: Points, buckets: int = 10) -> list[tuple[float, float]]:
    """The lowest value in each of `buckets` slices, at the slice's middle timestamp."""
    clean = finite(points)
    size = len(clean) / buckets
    found = []
    for index in range(buckets):
        chunk = clean[round(index * size) : round((index + 1) * size)]
        if chunk:
            found.append((chunk[len(chunk) // 2][0], min(v for _, v in chunk)))
    return found


def difference(points: Points, minus: Points) -> list[tuple[float, float]]:
    """`points` less `minus` at the timestamps both have (range queries share their steps)."""
    subtract = dict(finite(minus))
    return [(t, v - subtract[t]) for t, v in finite(points) if t in subtract]


def largest_rise_share(points: Points, buckets: int = 10) -> float:
    """Share of the total floor rise made in the single biggest slice-to-slice jump.

    A leak climbs a little in every slice (a small share); a one-off jump, such as a cache
    warming up when a workload starts, makes nearly all of its rise at once (close to 1).
    """
    lows = [v for _, v in floors(points, buckets)]
    rises = [max(0.0, later - earlier) for earlier, later in itertools.pairwise(lows)]
    total = sum(rises)
    return max(rises) / total if total > 0 else 0.0


def floor_trend(points: Points, buckets: int = 10) -> Trend | None:
    """Trend of the lowest value in each of `buckets` slices of the series.

    Heap and RSS saw-tooth between collections; the floor is what survives a collection,
    so a leak lifts it steadily while allocation churn leaves it flat.
    """
    clean = finite(points)
    if len(clean) < buckets * 2:
        return trend(clean)
    return trend(floors(clean, buckets))
