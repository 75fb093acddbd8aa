"""Check kinds on hand-made series: the edges the recordings do not reach."""

from __future__ import annotations

from collections.abc import Sequence

from bot.sources.base import RangeSeries
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext
from bot.triage.checks.heap_growth import HeapGrowth, HeapGrowthParams
from bot.triage.checks.native_memory import NativeMemory, NativeMemoryParams
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


def memory_context(series: dict[Signal, Sequence[float]]) -> CheckContext:
    fetched = Fetched(
        series={
            str(signal): [RangeSeries({}, [(1.0 * i, v) for i, v in enumerate(values)])]
            for signal, values in series.items()
        }
    )
    return CheckContext("checkout", parse_window("1m", end=60.0), fetched)


def test_rss_that_rises_with_the_committed_heap_is_not_native_memory() -> None:
    # A busy OpenTelemetry service in the lab: V8 grew its heap spaces by about 16 MiB in one
    # step and RSS followed, while the used heap stayed near 20 MiB.
    rss = [(90 + 0.2 * i + (14 + 0.6 * (i - 40) if i >= 40 else 0)) * MIB for i in range(60)]
    committed = [(34 + (14 + 0.55 * (i - 40) if i >= 40 else 0)) * MIB for i in range(60)]
    used = [20 * MIB] * 60
    params = NativeMemoryParams()
    rss_only = memory_context({Signal.RSS: rss, Signal.HEAP_USED: used})
    assert NativeMemory().evaluate(params, rss_only)[0].severity in {"warn", "crit"}
    with_committed = memory_context(
        {Signal.RSS: rss, Signal.HEAP_USED: used, Signal.HEAP_TOTAL: committed}
    )
    found = NativeMemory().evaluate(params, with_committed)[0]
    assert found.severity == "info"
    outside = found.evidence.observed["outside_heap_rise_mib"]
    assert isinstance(outside, float)
    assert outside < params.min_rise_mib


def test_rss_climbing_past_a_flat_committed_heap_is_native_memory() -> None:
    rss = [(90 + 2.5 * i) * MIB for i in range(60)]  # Buffers retained, 2.5 MiB a second
    committed = [34 * MIB] * 60
    used = [20 * MIB] * 60
    found = NativeMemory().evaluate(
        NativeMemoryParams(),
        memory_context({Signal.RSS: rss, Signal.HEAP_USED: used, Signal.HEAP_TOTAL: committed}),
    )[0]
    assert found.severity == "crit"


def test_a_throttled_pod_started_inside_the_window_is_shown_with_its_settled_cpu() -> None:
    from bot.triage.checks.k8s_cpu_throttling import CpuThrottling, CpuThrottlingParams

    window = parse_window("10m", end=1_000.0)  # step 15 s, rate range 1m
    started = [(955.0, 0.25), (970.0, 0.5), (985.0, 0.75), (1_000.0, 1.0)]  # 1 core, rising in
    pod = {"pod": "shop-1"}
    data = Fetched(
        series={
            Signal.CPU_THROTTLED_RATIO: [RangeSeries(pod, [(t, 0.6) for t, _ in started])],
            Signal.CONTAINER_CPU_CORES: [RangeSeries(pod, started)],
            Signal.CPU_LIMIT_CORES: [RangeSeries(pod, [(t, 1.0) for t, _ in started])],
        }
    )
    found = CpuThrottling().evaluate(CpuThrottlingParams(), CheckContext("shop", window, data))
    assert found[0].evidence.observed["used_cores"] == 1.0
    assert "using 1.00 cores" in found[0].summary
