"""PNG charts of the series behind findings.

Drawing a chart takes a quarter of a second of CPU and holds Python's global lock, so even a
worker thread would stall the event loop; `render_png_async` draws in a separate process, and
matplotlib is imported there only (bot.chart_drawing), never in the bot's own process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from bot.models import Finding, SeriesPoint, TriageReport

# Charts attached to a triage report, the worst findings first.
MAX_CHARTS = 4

Drawn = TypeVar("Drawn")


@dataclass(frozen=True)
class ChartSpec:
    title: str
    series: Mapping[str, Sequence[SeriesPoint]]
    unit: str = ""
    thresholds: Mapping[str, float] = field(default_factory=dict)


def _draw(spec: ChartSpec) -> bytes:
    """Runs in the worker: only that process ever imports matplotlib."""
    from bot.chart_drawing import render_png

    return render_png(spec)


_pool: ProcessPoolExecutor | None = None


def _chart_pool() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 - one lazily started worker process per bot process
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("forkserver")
        )
    return _pool


async def render_png_async(spec: ChartSpec) -> bytes:
    """Draw in the chart worker process, so the event loop never waits for matplotlib."""
    return await asyncio.get_running_loop().run_in_executor(_chart_pool(), _draw, spec)


async def run_in_chart_worker(draw: Callable[[Drawn], bytes], spec: Drawn) -> bytes:
    """Run another drawing function (a flame graph, say) in the same worker process;
    `draw` must be a module-level function so the worker can import it."""
    return await asyncio.get_running_loop().run_in_executor(_chart_pool(), draw, spec)


def stop_chart_worker() -> None:
    global _pool  # noqa: PLW0603
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def chart_specs(report: TriageReport) -> list[ChartSpec]:
    """One chart per worrying finding that carries a series, worst steps first."""
    findings = [f for step in report.steps for f in step.findings if f.severity != "info"]
    findings.sort(key=lambda f: f.severity != "crit")
    return [_spec(f) for f in findings if f.evidence.series]


def _spec(finding: Finding) -> ChartSpec:
    return ChartSpec(
        title=_chart_title(finding.summary),
        series=finding.evidence.series,
        unit=finding.evidence.unit,
        thresholds=finding.evidence.threshold,
    )


def _chart_title(summary: str, limit: int = 80) -> str:
    """The part of a summary before its explanation, e.g. "p99 lag 429 ms (peak 429 ms)"."""
    head = summary.split(":", 1)[0].strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"
