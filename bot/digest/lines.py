"""One line of Slack mrkdwn per section of a service's week, and the flags worth a glance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from bot.digest.figures import (
    Availability,
    EventLoop,
    Growth,
    Incidents,
    Latency,
    LatencyQuantile,
    Memory,
    Missing,
    Pool,
    Ranked,
    ServiceFigures,
    Throughput,
)
from bot.grading import Grading, budget_left
from bot.slack.render.text import escape

Level = Literal["ok", "warn", "crit", "none"]
MARKS: dict[Level, str] = {"crit": "🔴", "warn": "🟡", "ok": "🟢", "none": "⚪"}
_RANK: dict[Level, int] = {"none": 0, "ok": 1, "warn": 2, "crit": 3}
LABEL_LIMIT = 60


def ms(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def span(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):.0f} MiB"


def signed(change: float) -> str:
    return "±0%" if abs(change) < 0.005 else f"{change * 100:+.0f}%"


def label(name: str, limit: int = LABEL_LIMIT) -> str:
    """A route or downstream name, shortened in the middle, safe inside `code` marks."""
    if len(name) > limit:
        name = name[: limit * 2 // 3] + "…" + name[-(limit // 3) :]
    return escape(name).replace("`", "'")


def missing_line(title: str, gap: Missing) -> str:
    reason = escape(gap.reason)
    return f"*{title}* {MARKS['none']} no data: {reason}. Why it matters: {gap.matters}."


def throughput_line(t: Throughput) -> str:
    text = f"*Traffic* avg {t.avg_rps:.1f} rps"
    if t.peak_rps is not None:
        text += f" · busiest hour {t.peak_rps:.1f} rps"
        if t.target_peak_rps:
            share = t.peak_rps / t.target_peak_rps
            text += f" ({share * 100:.0f}% of the planned {t.target_peak_rps:g} rps peak)"
    return text


def availability_line(a: Availability) -> str:
    text = f"*Availability* {a.percent:.3f}% · 5xx {a.error_ratio * 100:.3f}%"
    if a.target_percent is None:
        return text + " · no objective in the catalog (set `slo.availability_percent`)"
    burn, left = a.burn_rate, a.budget_left
    text += f" · target {a.target_percent:g}%"
    if burn is not None and left is not None:
        text += f" · burn rate {burn:.2f}× · {left * 100:.0f}% of the week's error budget left"
    return text


def _quantile(q: LatencyQuantile) -> str:
    if q.seconds is None:
        return f"{q.name} n/a"
    text = f"{q.name} {ms(q.seconds)}"
    if q.target_seconds is not None:
        text += f" / {ms(q.target_seconds)} {'✗' if q.over_target else '✓'}"
    if q.change is not None:
        text += f" ({signed(q.change)} wk/wk)"
    return text


def latency_line(latency: Latency) -> str:
    return "*Latency* " + " · ".join(_quantile(q) for q in latency.quantiles)


def lag_level(seconds: float, grading: Grading) -> Level:
    return grading.lag(seconds)


def _lag_words(level: Level, grading: Grading) -> str:
    if level == "crit":
        return f"{grading.lag_crit_ms:g} ms or more stalls the process"
    return f"over {grading.lag_warn_ms:g} ms every request feels"


def event_loop_line(loop: EventLoop, grading: Grading) -> str:
    parts = []
    if loop.p99_typical_s is not None and loop.p99_worst_s is not None:
        parts.append(
            f"lag p99 typically {ms(loop.p99_typical_s)}, worst hour {ms(loop.p99_worst_s)}"
        )
    if loop.max_worst_s is not None:
        parts.append(f"max {ms(loop.max_worst_s)}")
    level = lag_level(loop.worst_s, grading)
    if level != "ok":
        parts.append(f"{MARKS[level]} {_lag_words(level, grading)}")
    elif loop.worst_s < grading.lag_fine_s:
        parts.append(f"under the {grading.lag_fine_ms:g} ms mark")
    if loop.hours_over_bad:
        parts.append(f"p99 above {grading.lag_warn_ms:g} ms in {loop.hours_over_bad} h")
    return "*Event loop* " + " · ".join(parts)


def gc_line(ratio: float, grading: Grading) -> str:
    level: Level = grading.gc(ratio)
    note = f" {MARKS[level]} high" if level != "ok" else ""
    return f"*GC* {ratio * 100:.1f}% of wall time{note}"


def _growth(name: str, growth: Growth | None) -> str:
    if growth is None:
        return f"{name} n/a"
    shape = "steady" if growth.steady else "uneven"
    return f"{name} {mib(growth.first)} → {mib(growth.last)} ({signed(growth.growth)}, {shape})"


def memory_line(memory: Memory) -> str:
    text = f"*Memory* {_growth('heap', memory.heap)} · {_growth('RSS', memory.rss)}"
    if memory.heap_leak:
        text += f" · {MARKS['warn']} heap climbs steadily: a leak is likely"
    if memory.native_leak:
        text += f" · {MARKS['warn']} RSS climbs while the heap is flat: suspect native memory"
    return text


def pool_line(pool: Pool) -> str:
    parts = []
    if pool.peak_used is not None:
        size = f"/{pool.size:g}" if pool.size else ""
        share = f" ({pool.peak_used / pool.size * 100:.0f}%)" if pool.size else ""
        parts.append(f"peak {pool.peak_used:g}{size} connections in use{share}")
    if pool.hours_waiting:
        parts.append(f"requests waited for a connection in {pool.hours_waiting} h")
        parts.append(f"up to {pool.peak_waiting:g} at once")
    elif pool.hours_waiting == 0:
        parts.append("no request waited for a connection")
    return "*DB pool* " + " · ".join(parts)


def ranked_line(title: str, ranked: Ranked) -> str:
    return f"*{title}* " + " · ".join(f"`{label(name)}` {ms(p99)}" for name, p99 in ranked.entries)


def incidents_line(i: Incidents) -> str:
    if i.count == 0:
        return "*Incidents* none this week"
    parts = [f"{i.count} opened"]
    if i.median_ack_s is not None:
        parts.append(f"median {span(i.median_ack_s)} to acknowledge")
    if i.median_resolve_s is not None:
        parts.append(f"{span(i.median_resolve_s)} to resolve")
    causes = ", ".join(f"{escape(cause)} ×{n}" for cause, n in i.top_causes)
    parts.append(f"causes: {causes}")
    return "*Incidents* " + " · ".join(parts)


def _ungraded(render: Callable[[Any], str]) -> Callable[[Any, Grading], str]:
    return lambda value, _grading: render(value)


def _ranked(title: str) -> Callable[[Any, Grading], str]:
    return lambda ranked, _grading: ranked_line(title, ranked)


# Each section: the figures' attribute, its title, and its line (graded ones get the grading).
_SECTIONS: tuple[tuple[str, str, Callable[[Any, Grading], str]], ...] = (
    ("throughput", "Traffic", _ungraded(throughput_line)),
    ("availability", "Availability", _ungraded(availability_line)),
    ("latency", "Latency", _ungraded(latency_line)),
    ("event_loop", "Event loop", event_loop_line),
    ("gc_ratio", "GC", gc_line),
    ("memory", "Memory", _ungraded(memory_line)),
    ("pool", "DB pool", _ungraded(pool_line)),
    ("endpoints", "Slowest endpoints (p99)", _ranked("Slowest endpoints (p99)")),
    ("downstreams", "Slowest downstreams (p99)", _ranked("Slowest downstreams (p99)")),
    ("incidents", "Incidents", _ungraded(incidents_line)),
)


def detail_lines(figures: ServiceFigures) -> list[str]:
    lines = []
    for attribute, title, render in _SECTIONS:
        value = getattr(figures, attribute)
        lines.append(
            missing_line(title, value)
            if isinstance(value, Missing)
            else render(value, figures.grading)
        )
    return lines


def flags(figures: ServiceFigures) -> list[tuple[Level, str]]:
    """The findings worth a line in the channel summary, worst first."""
    found: list[tuple[Level, str]] = []
    for check in (_latency_flags, _availability_flags, _runtime_flags, _capacity_flags):
        found.extend(check(figures))
    return sorted(found, key=lambda flag: -_RANK[flag[0]])


def level_of(figures: ServiceFigures) -> Level:
    if figures.unreachable or all(
        isinstance(getattr(figures, attribute), Missing) for attribute, *_ in _SECTIONS[:-1]
    ):
        return "none"
    return max((level for level, _ in flags(figures)), key=_RANK.__getitem__, default="ok")


def _latency_flags(f: ServiceFigures) -> list[tuple[Level, str]]:
    if isinstance(f.latency, Missing):
        return []
    out: list[tuple[Level, str]] = []
    for q in f.latency.quantiles:
        if q.over_target and q.seconds is not None and q.target_seconds is not None:
            level: Level = f.grading.latency(q.seconds, q.target_seconds)
            out.append((level, f"{q.name} {ms(q.seconds)} over its {ms(q.target_seconds)} target"))
    return out


def _availability_flags(f: ServiceFigures) -> list[tuple[Level, str]]:
    if isinstance(f.availability, Missing) or f.availability.burn_rate is None:
        return []
    burn = f.availability.burn_rate
    level = budget_left(1 - burn)
    if level == "crit":
        return [("crit", f"error budget overspent ({burn:.1f}× burn)")]
    return [("warn", f"{burn * 100:.0f}% of the error budget spent")] if level == "warn" else []


def _runtime_flags(f: ServiceFigures) -> list[tuple[Level, str]]:
    out: list[tuple[Level, str]] = []
    if isinstance(f.event_loop, EventLoop) and f.grading.lag(f.event_loop.worst_s) != "ok":
        worst_s = f.event_loop.worst_s
        out.append((f.grading.lag(worst_s), f"loop lag up to {ms(worst_s)}"))
    if isinstance(f.gc_ratio, float) and f.grading.gc(f.gc_ratio) != "ok":
        out.append((f.grading.gc(f.gc_ratio), f"GC {f.gc_ratio * 100:.0f}% of time"))
    if isinstance(f.memory, Memory) and f.memory.heap_leak:
        out.append(("warn", "heap leak suspected"))
    if isinstance(f.memory, Memory) and f.memory.native_leak:
        out.append(("warn", "native memory growth suspected"))
    return out


def _capacity_flags(f: ServiceFigures) -> list[tuple[Level, str]]:
    out: list[tuple[Level, str]] = []
    t = f.throughput
    if (
        isinstance(t, Throughput)
        and t.peak_rps
        and f.grading.traffic(t.peak_rps, t.target_peak_rps) != "ok"
    ):
        out.append(("warn", "traffic above the planned peak"))
    p = f.pool
    if (
        isinstance(p, Pool)
        and p.peak_used
        and p.size
        and f.grading.pool(p.peak_used, p.size, 0) != "ok"
    ):
        out.append(("warn", "DB pool nearly exhausted"))
    if isinstance(p, Pool) and p.hours_waiting:
        out.append(("warn", f"requests waited for the DB pool in {p.hours_waiting} h"))
    return out
