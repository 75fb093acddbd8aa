"""Drawing a flame graph with matplotlib: runs in the chart worker process (bot.charts)."""

from __future__ import annotations

import io
import zlib

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bot.profiling.flame import FlameNode, FlameSpec

ROW_HEIGHT = 1.0
# Labels need this share of the width to be readable; narrower frames stay unlabelled.
MIN_LABEL_WIDTH = 0.04
CHARS_PER_UNIT_WIDTH = 150


def render_flame_png(spec: FlameSpec) -> bytes:
    depth = _depth(spec.root)
    figure = Figure(figsize=(10, max(2.5, 0.28 * depth + 1.2)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    total = max(spec.root.weight, 1)
    _draw_children(axes, spec.root, 0.0, 0, total)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, max(depth, 1) * ROW_HEIGHT)
    axes.set_yticks([])
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    axes.set_xlabel(f"share of {spec.unit}")
    axes.set_title(spec.title, fontsize=11, parse_math=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _depth(node: FlameNode) -> int:
    return max((1 + _depth(child) for child in node.children.values()), default=0)


def _draw_children(axes: Axes, node: FlameNode, left: float, level: int, total: int) -> None:
    for child in sorted(node.children.values(), key=lambda c: -c.weight):
        width = child.weight / total
        _frame(axes, child.name, left, level, width)
        _draw_children(axes, child, left, level + 1, total)
        left += width


def _frame(axes: Axes, name: str, left: float, level: int, width: float) -> None:
    bottom = level * ROW_HEIGHT
    axes.add_patch(
        Rectangle((left, bottom), width, ROW_HEIGHT * 0.95, facecolor=_colour(name), linewidth=0)
    )
    if width >= MIN_LABEL_WIDTH:
        fits = max(3, int(width * CHARS_PER_UNIT_WIDTH))
        label = name if len(name) <= fits else name[: fits - 1] + "…"
        axes.text(
            left + 0.003,
            bottom + 0.45,
            label,
            fontsize=7,
            va="center",
            clip_on=True,
            parse_math=False,
        )


def _colour(name: str) -> tuple[float, float, float]:
    """Warm colours, stable per function name."""
    seed = zlib.crc32(name.encode("utf-8", "replace"))
    return (0.93, 0.35 + (seed % 100) / 200, 0.15 + (seed // 100 % 100) / 400)
