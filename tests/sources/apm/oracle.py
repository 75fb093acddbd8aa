"""Expected APM figures worked out from an exposition text alone, without Prometheus.

`growing_counters` scales every counter of a fixture by one factor, so quantiles and shares
computed here from the static text are what Prometheus must report from the growing one.
"""

from __future__ import annotations

import re
from collections import defaultdict

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str, metric: str) -> list[tuple[dict[str, str], float]]:
    found = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(1) == metric:
            found.append((dict(_LABEL.findall(match.group(2))), float(match.group(3))))
    return found


def quantiles(text: str, family: str, keys: tuple[str, ...], q: float) -> dict[str, float]:
    """Per key (values joined with ':'), the classic-histogram quantile Prometheus computes."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for labels, value in samples(text, f"{family}_bucket"):
        name = ":".join(labels[key] for key in keys if labels.get(key))
        buckets[name][float(labels["le"])] += value
    return {name: _quantile(q, sorted(by_le.items())) for name, by_le in buckets.items()}


def _quantile(q: float, cumulative: list[tuple[float, float]]) -> float:
    total = cumulative[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in cumulative:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower
