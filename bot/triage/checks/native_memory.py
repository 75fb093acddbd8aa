"""Native memory: RSS (or external memory) climbing while the JavaScript heap stays flat.

RSS also holds the heap V8 has committed: under load V8 grows its heap spaces in steps
(tens of MiB at once) while the used heap stays flat. So the climb judged is RSS less the
committed heap, where the exporter gives it; what is left is memory outside the heap.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckSkipped, finding, grade
from bot.triage.checks.growth import GrowthParams, climbs, rise
from bot.triage.checks.units import MIB, mebibytes, percent, rounded, scaled


class NativeMemoryParams(GrowthParams):
    flat_heap_growth: float = Field(default=0.08, ge=0)
    max_jump_share: float = Field(default=0.6, gt=0, le=1)
    max_heap_share: float = Field(default=0.25, ge=0, le=1)
    # RSS of a process that just started settles by a few MiB; a leak must add more.
    min_rise_mib: float = Field(default=32, ge=0)


ADVICE = (
    "Memory outside the JavaScript heap is growing: Buffers, native add-ons or allocator "
    "fragmentation. Heap snapshots will not show it. Check Buffer and stream handling on "
    "error paths, update or remove native dependencies, and compare RSS with "
    "process.memoryUsage().external and arrayBuffers."
)


class NativeMemory(CheckKind[NativeMemoryParams]):
    kind = "native_memory"
    params_model = NativeMemoryParams

    def signals(self, params: NativeMemoryParams) -> set[Signal]:
        return {Signal.RSS, Signal.HEAP_USED, Signal.HEAP_TOTAL, Signal.EXTERNAL_MEMORY}

    def evaluate(self, params: NativeMemoryParams, ctx: CheckContext) -> list[Finding]:
        rss = ctx.points(Signal.RSS)
        rss_line = stats.floor_trend(rss)
        if rss_line is None:
            raise CheckSkipped("too few RSS samples in the window to see a trend")
        heap_line = stats.floor_trend(ctx.optional_points(Signal.HEAP_USED))
        external_line = stats.floor_trend(ctx.optional_points(Signal.EXTERNAL_MEMORY))
        outside_heap = _outside_committed_heap(rss, ctx.optional_points(Signal.HEAP_TOTAL))
        outside_line = stats.floor_trend(outside_heap) or rss_line
        rss_growth = _steady_growth(outside_line, params, base=rss_line.first)
        if stats.largest_rise_share(outside_heap) >= params.max_jump_share:
            rss_growth = 0.0  # one jump (a workload starting), not a climb
        heap_growth = heap_line.growth if heap_line else 0.0
        external_growth = _steady_growth(external_line, params)
        heap_flat = _heap_explains_little(heap_line, rss_line, params)
        native = max(rss_growth, external_growth) if heap_flat else 0.0
        summary = (
            f"RSS {mebibytes(rss_line.first)} -> {mebibytes(rss_line.last)} "
            f"({percent(rss_growth)}), heap {percent(heap_growth)}"
        )
        if external_line:
            summary += f", external {percent(external_line.growth)}"
        return [
            finding(
                "rss_growth",
                grade(native, params.warn_growth, params.crit_growth),
                summary,
                ADVICE,
                query=ctx.query(Signal.RSS, Signal.EXTERNAL_MEMORY),
                observed={
                    "rss_growth": rounded(rss_growth, 3),
                    "rss_rise_mib": rounded(rise(rss_line) / MIB, 1),
                    "outside_heap_rise_mib": rounded(rise(outside_line) / MIB, 1),
                    "heap_growth": rounded(heap_growth, 3),
                    "heap_rise_mib": rounded(rise(heap_line) / MIB, 1),
                    "external_growth": rounded(external_growth, 3),
                    "heap_flat": "yes" if heap_flat else "no",
                },
                threshold={
                    "warn_growth": params.warn_growth,
                    "crit_growth": params.crit_growth,
                    "min_rise_mib": params.min_rise_mib,
                },
                charts={"rss_mib": scaled(rss, 1 / MIB)},
                unit="MiB",
            )
        ]


def _heap_explains_little(
    heap: stats.Trend | None, rss: stats.Trend, params: NativeMemoryParams
) -> bool:
    """The heap stayed flat, or grew by only a small part of what RSS gained.

    Exporters without an external-memory gauge (OpenTelemetry's runtime metrics) leave RSS
    as the only view of Buffers; a heap warming up by a few MiB must not hide a RSS climb
    of hundreds.
    """
    if heap is None or heap.growth < params.flat_heap_growth:
        return True
    return rise(heap) <= params.max_heap_share * rise(rss)


def _outside_committed_heap(rss: stats.Points, heap_total: stats.Points) -> stats.Points:
    """RSS less the committed heap, or RSS itself when the two cannot be lined up."""
    outside = stats.difference(rss, heap_total)
    return outside if len(outside) >= len(stats.finite(rss)) // 2 else rss


def _steady_growth(
    line: stats.Trend | None, params: NativeMemoryParams, base: float | None = None
) -> float:
    """The line's rise against `base` (its own start unless given), when it is a real climb."""
    if line is None or not climbs(line, params.min_r_squared, params.min_rise_mib * MIB):
        return 0.0
    start = line.first if base is None else base
    return rise(line) / start if start > 0 else 0.0
