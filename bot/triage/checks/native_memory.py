"""Native memory: RSS (or external memory) climbing while the JavaScript heap stays flat."""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import (
    CheckContext,
    CheckKind,
    CheckParams,
    CheckSkipped,
    finding,
    grade,
    mebibytes,
    percent,
    rounded,
)


class NativeMemoryParams(CheckParams):
    warn_growth: float = Field(default=0.15, gt=0)
    crit_growth: float = Field(default=0.4, gt=0)
    flat_heap_growth: float = Field(default=0.08, ge=0)
    min_r_squared: float = Field(default=0.7, ge=0, le=1)
    max_jump_share: float = Field(default=0.6, gt=0, le=1)


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
        return {Signal.RSS, Signal.HEAP_USED, Signal.EXTERNAL_MEMORY}

    def evaluate(self, params: NativeMemoryParams, ctx: CheckContext) -> list[Finding]:
        rss = ctx.points(Signal.RSS)
        rss_line = stats.floor_trend(rss)
        if rss_line is None:
            raise CheckSkipped("too few RSS samples in the window to see a trend")
        heap_line = stats.floor_trend(ctx.optional_points(Signal.HEAP_USED))
        external_line = stats.floor_trend(ctx.optional_points(Signal.EXTERNAL_MEMORY))
        rss_growth = _steady_growth(rss_line, params)
        if stats.largest_rise_share(rss) >= params.max_jump_share:
            rss_growth = 0.0  # one jump (a workload starting), not a climb
        heap_growth = heap_line.growth if heap_line else 0.0
        external_growth = _steady_growth(external_line, params)
        heap_flat = heap_growth < params.flat_heap_growth
        native = max(rss_growth, external_growth) if heap_flat else 0.0
        severity = grade(native, params.warn_growth, params.crit_growth)
        summary = (
            f"RSS {mebibytes(rss_line.first if rss_line else None)} -> "
            f"{mebibytes(rss_line.last if rss_line else None)} ({percent(rss_growth)}), "
            f"heap {percent(heap_growth)}"
        )
        if external_line:
            summary += f", external {percent(external_line.growth)}"
        return [
            finding(
                "rss_growth",
                severity,
                summary,
                ADVICE if severity != "info" else "",
                query=ctx.query(Signal.RSS, Signal.EXTERNAL_MEMORY),
                observed={
                    "rss_growth": rounded(rss_growth, 3),
                    "heap_growth": rounded(heap_growth, 3),
                    "external_growth": rounded(external_growth, 3),
                    "heap_flat": "yes" if heap_flat else "no",
                },
                threshold={"warn_growth": params.warn_growth, "crit_growth": params.crit_growth},
                charts={"rss_mib": [(t, v / 1_048_576) for t, v in rss]},
                unit="MiB",
            )
        ]


def _steady_growth(line: stats.Trend | None, params: NativeMemoryParams) -> float:
    if line is None or line.r_squared < params.min_r_squared:
        return 0.0
    return line.growth
