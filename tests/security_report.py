"""Figures of the hostile-input tests, written to `.run/security.md` as the tests run: requests
generated per route, answers by status class, leaks and unescaped writes found."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / ".run" / "security.md"
_figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def record_route(route: str, *, status: int | None = None, **counts: int) -> None:
    figures = _figures[route]
    if status is not None:
        figures["requests"] += 1
        figures[f"{status // 100}xx"] += 1
    for name, count in counts.items():
        figures[name] += count
    _write()


def _write() -> None:
    columns = ["requests", "2xx", "4xx", "5xx", "writes", "unsafe", "leaks", "repeats"]
    lines = [
        "| route | " + " | ".join(columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for route, figures in sorted(_figures.items()):
        lines.append(f"| {route} | " + " | ".join(str(figures[c]) for c in columns) + " |")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
