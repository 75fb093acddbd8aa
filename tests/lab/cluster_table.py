"""Rows of the pods scorecard (cause, scope, change, time to diagnosis), written to
`.run/cluster-scorecard.md` as each lab cluster test finishes, for the README table."""

from __future__ import annotations

from pathlib import Path

from bot.models import TriageReport

OUT = Path(__file__).resolve().parents[2] / ".run" / "cluster-scorecard.md"
HEADER = (
    "| scenario | cause | scope | what changed | diagnosed after |\n"
    "| --- | --- | --- | --- | --- |\n"
)


def record(scenario: str, report: TriageReport, seconds: float) -> str:
    diagnosis = report.diagnosis
    scope = diagnosis.scope
    scope_text = (
        f"{len(scope.instances_affected)} of {scope.instances_total}: "
        + ", ".join(scope.instances_affected)
        if scope
        else "—"
    )
    changed = "; ".join(c.detail for c in diagnosis.changes if c.kind != "restart")
    row = (
        f"| {scenario} | `{diagnosis.cause}` | {scope_text} | {changed or '—'} "
        f"| {seconds:.0f} s |\n"
    )
    OUT.parent.mkdir(exist_ok=True)
    if not OUT.exists():
        OUT.write_text(HEADER, encoding="utf-8")
    with OUT.open("a", encoding="utf-8") as table:
        table.write(row)
    print(row.strip())
    return row
