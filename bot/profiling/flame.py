"""A flame graph of a profile's folded stacks, drawn in the chart worker process.

The tree is merged here (cheap); matplotlib runs only in the worker (bot.profiling.flame_drawing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.charts import run_in_chart_worker
from bot.profiling.evidence import FlameStack, ProfileEvidence

MAX_DEPTH = 28


@dataclass
class FlameNode:
    name: str
    weight: int = 0
    children: dict[str, FlameNode] = field(default_factory=dict)


@dataclass(frozen=True)
class FlameSpec:
    title: str
    root: FlameNode
    unit: str


def merge(stacks: tuple[FlameStack, ...], max_depth: int = MAX_DEPTH) -> FlameNode:
    root = FlameNode("all")
    for stack in stacks:
        root.weight += stack.weight
        node = root
        for frame in stack.frames[:max_depth]:
            node = node.children.setdefault(frame, FlameNode(frame))
            node.weight += stack.weight
    return root


def flame_spec(evidence: ProfileEvidence) -> FlameSpec | None:
    if not evidence.captured or not evidence.flame:
        return None
    what = "CPU" if evidence.kind == "cpu" else "Live allocations"
    title = f"{what} flame graph, {evidence.instance[:60]}, {evidence.seconds:g} s"
    return FlameSpec(title=title, root=merge(evidence.flame), unit=evidence.flame_unit)


def _draw(spec: FlameSpec) -> bytes:
    """Runs in the chart worker: only that process imports matplotlib."""
    from bot.profiling.flame_drawing import render_flame_png

    return render_flame_png(spec)


async def render_flame_async(spec: FlameSpec) -> bytes:
    return await run_in_chart_worker(_draw, spec)
