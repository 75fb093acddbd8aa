"""Drawing one chart with matplotlib: runs in the chart worker process started by bot.charts."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from bot.charts import ChartSpec

UNIT_SCALE = {"s": (1000.0, "ms"), "bytes": (1 / (1024 * 1024), "MiB"), "ratio": (100.0, "%")}
# A series this short has no line to speak of: mark its points. A young incident's series may
# hold a single point, and a time axis needs some width around it.
MARK_POINTS_BELOW = 3
MIN_SPAN_SECONDS = 120.0


def render_png(spec: ChartSpec) -> bytes:
    """Draw one line chart; thresholds become dashed horizontal lines."""
    scale, unit = UNIT_SCALE.get(spec.unit, (1.0, spec.unit))
    figure = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, points in spec.series.items():
        times = np.array([int(p.t * 1000) for p in points], dtype="datetime64[ms]")
        marker = "o" if len(points) < MARK_POINTS_BELOW else None
        axes.plot(times, [p.v * scale for p in points], label=name, linewidth=1.6, marker=marker)
    _widen_a_narrow_time_axis(axes, spec)
    for name, value in spec.thresholds.items():
        axes.axhline(value * scale, linestyle="--", linewidth=1, color="tab:red", label=name)
    axes.set_title(spec.title, fontsize=11)
    axes.set_ylabel(unit)
    axes.xaxis.set_major_formatter(DateFormatter(_time_format(spec)))  # type: ignore[no-untyped-call]
    axes.grid(alpha=0.3)
    if spec.series or spec.thresholds:
        axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _widen_a_narrow_time_axis(axes: Axes, spec: ChartSpec) -> None:
    times = [p.t for points in spec.series.values() for p in points]
    if times and max(times) - min(times) < MIN_SPAN_SECONDS:
        middle = (max(times) + min(times)) / 2
        edges = [int((middle + side * MIN_SPAN_SECONDS / 2) * 1000) for side in (-1, 1)]
        left, right = np.array(edges, dtype="datetime64[ms]")
        axes.set_xlim(left, right)


def _time_format(spec: ChartSpec) -> str:
    times = [p.t for points in spec.series.values() for p in points]
    span = max(times) - min(times) if times else 0.0
    if span > 2 * 86400:
        return "%a %d %b"
    return "%H:%M" if span > 10 * 60 else "%H:%M:%S"
