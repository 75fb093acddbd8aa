"""From an agent's summary to the report's evidence: shares of samples, growth in bytes, and
the few culprits worth naming."""

from __future__ import annotations

from bot.profiling.evidence import Culprit, FlameStack, ProfiledFunction, ProfileEvidence
from bot.profiling.summaries import CpuSummary, FunctionRow, HeapSummary, SiteRow

MAX_CULPRITS = 3
MAX_LISTED = 8
MAX_FLAME_STACKS = 300
# A function below this share of the samples in which the process ran code (not idle, not
# collecting garbage) explains too little of the symptom to name. Counting GC in would hide the
# allocating function in exactly the profiles taken for GC pressure.
MIN_CULPRIT_SHARE = 0.05
IDLE = "(idle)"


def location(script: str, line: int) -> str:
    return f"{script}:{line}" if script else "(native code)"


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def cpu_evidence(summary: CpuSummary, instance: str) -> ProfileEvidence:
    total = summary.samples
    inclusive = {(row.name, row.script, row.line): row.samples for row in summary.top_total}
    listed = [row for row in summary.top_self if row.name != IDLE][:MAX_LISTED]
    return ProfileEvidence(
        kind="cpu",
        captured=True,
        instance=instance,
        seconds=summary.seconds,
        samples=total,
        gc_share=_share(summary.gc_samples, total),
        top_self=tuple(_function(row, inclusive, total) for row in listed),
        top_total=tuple(
            _function(row, inclusive, total)
            for row in summary.top_total
            if row.script and not row.script.startswith("node:")
        )[:MAX_LISTED],
        culprits=cpu_culprits(summary),
        flame=_flame([(row.stack, row.samples) for row in summary.folded]),
    )


def _function(
    row: FunctionRow, inclusive: dict[tuple[str, str, int], int], total: int
) -> ProfiledFunction:
    return ProfiledFunction(
        name=row.name,
        location=location(row.script, row.line),
        self_share=_share(row.samples, total),
        total_share=_share(inclusive.get((row.name, row.script, row.line), row.samples), total),
    )


def cpu_culprits(summary: CpuSummary) -> tuple[Culprit, ...]:
    """The application's own functions holding the most samples, charged with the time of the
    runtime code they called."""
    working = summary.samples - summary.idle_samples - summary.gc_samples
    rows = [r for r in summary.top_application if _share(r.samples, working) >= MIN_CULPRIT_SHARE]
    return tuple(
        Culprit(
            kind="function",
            name=row.name,
            location=location(row.script, row.line),
            share=_share(row.samples, summary.samples),
        )
        for row in rows[:MAX_CULPRITS]
    )


def heap_evidence(summary: HeapSummary, instance: str) -> ProfileEvidence:
    return ProfileEvidence(
        kind="heap",
        captured=True,
        instance=instance,
        seconds=summary.seconds,
        culprits=heap_culprits(summary),
        flame=_flame([(row.stack, row.bytes) for row in summary.folded]),
        flame_unit="bytes",
    )


def heap_culprits(summary: HeapSummary) -> tuple[Culprit, ...]:
    """Allocation sites whose live bytes grew most between the two readings."""
    growing = _growing(summary.application_sites) or _growing(summary.self_sites)
    return tuple(
        Culprit(
            kind="allocation",
            name=site.name,
            location=location(site.script, site.line),
            bytes=site.growth,
        )
        for site in growing[:MAX_CULPRITS]
    )


def _growing(sites: list[SiteRow]) -> list[SiteRow]:
    return sorted((site for site in sites if site.growth > 0), key=lambda site: -site.growth)


def _flame(stacks: list[tuple[str, int]]) -> tuple[FlameStack, ...]:
    heaviest = sorted((pair for pair in stacks if pair[1] > 0), key=lambda pair: -pair[1])
    return tuple(
        FlameStack(frames=tuple(stack.split(";")), weight=weight)
        for stack, weight in heaviest[:MAX_FLAME_STACKS]
    )
