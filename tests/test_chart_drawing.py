"""Charts show their series even when an incident is young and a series has one point."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.image import imread

from bot.chart_drawing import render_png
from bot.charts import ChartSpec
from bot.models import SeriesPoint

NOW = 1_796_000_000.0
SERIES_BLUE = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's first line colour


def series_pixels(points: list[SeriesPoint]) -> int:
    png = render_png(ChartSpec("lag", {"p99": points}, unit="s", thresholds={"warn_ms": 0.1}))
    image = imread(io.BytesIO(png))[:, :, :3]
    legend_free = image[:, 200:]  # the legend (top left) shows the colour too
    return int(np.all(np.abs(legend_free - SERIES_BLUE) < 0.02, axis=2).sum())


def test_a_single_point_is_drawn() -> None:
    assert series_pixels([SeriesPoint(t=NOW, v=0.42)]) > 20


def test_a_line_is_drawn() -> None:
    points = [SeriesPoint(t=NOW + 15 * i, v=0.4 + 0.001 * i) for i in range(40)]
    assert series_pixels(points) > 200


def test_no_points_draw_nothing_in_the_series_colour() -> None:
    assert series_pixels([]) == 0
