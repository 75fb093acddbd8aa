"""What the bot exports on /metrics, and which metrics a PromQL expression reads."""

from __future__ import annotations

import promql_parser

from bot.telemetry import REGISTRY

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def exported_series() -> set[str]:
    """Every series name the bot's registry can expose, from each metric family's type."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def metrics_read_by(expr: str) -> set[str]:
    """Metric names an expression selects; raises ValueError when it does not parse."""
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names
