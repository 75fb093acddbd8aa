"""Per-dependency views of downstream signals (one series per HTTP host, database, cache)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckSkipped, CheckUnknown

NAME_LABELS = (
    "downstream",
    "dependency",
    "peer_service",
    "server_address",
    "net_peer_name",
    "http_host",
    "host",
    "target",
    "db_system",
)


@dataclass(frozen=True)
class Dependency:
    name: str
    level: float
    points: stats.Points


def per_dependency(ctx: CheckContext, signal: Signal, share: float) -> list[Dependency]:
    """Each dependency's sustained level, highest first; raises when the signal has no data."""
    grouped: dict[str, list[tuple[float, float]]] = {}
    for one in ctx.series(signal):
        name = stats.series_name(one.labels, NAME_LABELS)
        grouped.setdefault(name, []).extend(stats.finite(one.points))
    found = []
    for name, points in grouped.items():
        ordered = sorted(points)
        level = stats.sustained(stats.values(ordered), share)
        if level is not None:
            found.append(Dependency(name, level, ordered))
    return sorted(found, key=lambda dep: -dep.level)


def levels(ctx: CheckContext, signal: Signal, share: float) -> dict[str, float]:
    """Dependency name -> sustained level, empty when the signal is not available."""
    try:
        return {dep.name: dep.level for dep in per_dependency(ctx, signal, share)}
    except (CheckSkipped, CheckUnknown):
        return {}
