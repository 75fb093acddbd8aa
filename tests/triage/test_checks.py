"""Check kinds on hand-made series: the edges the recordings do not reach."""

from __future__ import annotations

from collections.abc import Sequence

from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext
from bot.triage.checks.heap_growth import HeapGrowth, HeapGrowthParams
from bot.triage.checks.promql_threshold import PromqlThreshold, PromqlThresholdParams
from bot.triage.source import Fetched
from bot.triage.window import parse_window

WINDOW = parse_window("10m", end=600.0)
MIB = 1_048_576


def context(key: str, values: Sequence[float]) -> CheckContext:
    points = [(15.0 * i, v) for i, v in enumerate(values)]
    return CheckContext("checkout", WINDOW, Fetched(series={key: [RangeSeries({}, points)]}))


def test_a_steady_heap_climb_is_flagged() -> None:
    values = [(50 + 5 * i) * MIB for i in range(40)]
    found = HeapGrowth().evaluate(HeapGrowthParams(), context(Signal.HEAP_USED, values))
    assert found[0].severity == "crit"


def test_a_single_heap_jump_is_not_a_leak() -> None:
    # a workload starting (say, a batch window filling up) lifts the heap once, then it stays
    values = [40 * MIB] * 16 + [160 * MIB] * 24
    found = HeapGrowth().evaluate(HeapGrowthParams(), context(Signal.HEAP_USED, values))
    assert found[0].severity == "info"
    jump = found[0].evidence.observed["largest_jump_share"]
    assert isinstance(jump, float)
    assert jump > 0.9


def test_generic_threshold_below_direction() -> None:
    params = PromqlThresholdParams(
        code="cache_hit",
        name="cache hit ratio",
        expr="x{$selector}",
        warn=0.8,
        crit=0.5,
        direction="below",
        unit="ratio",
    )
    found = PromqlThreshold().evaluate(params, context("custom:cache_hit", [0.4] * 20))
    assert found[0].code == "cache_hit"
    assert found[0].severity == "crit"
    assert "cache hit ratio 0.4 ratio" in found[0].summary
    healthy = PromqlThreshold().evaluate(params, context("custom:cache_hit", [0.95] * 20))
    assert healthy[0].severity == "info"


def test_rates_of_a_series_younger_than_its_range_are_scaled_up_never_over() -> None:
    from bot.triage.checks.base import settled
    from bot.triage.window import parse_window

    window = parse_window("10m", end=1_000.0)  # step 15 s, rate range 1m
    young = [(955.0, 0.25), (970.0, 0.5), (985.0, 0.75), (1_000.0, 1.0)]
    assert [round(v, 2) for _, v in settled(young, window)] == [1.0, 1.0, 1.0, 1.0]
    old = [(410.0, 0.5), (1_000.0, 0.5)]
    assert settled(old, window) == old


def test_short_windows_are_read_finely_enough_to_see_a_trend_in_seconds() -> None:
    from bot.triage.window import parse_window

    assert parse_window("2m", end=0).step == 2
    assert parse_window("5m", end=0).step == 5
    assert parse_window("10m", end=0).step == 15  # unchanged beyond five minutes
    assert parse_window("1d", end=0).step == 864
