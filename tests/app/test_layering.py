"""What each part of the house may import: the product never reaches into development code."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEVELOPMENT_PACKAGES = ("emulator", "lab", "tests", "bench", "scripts")


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def imports_under(package: str) -> Iterator[tuple[str, str]]:
    for path in sorted((REPO / package).rglob("*.py")):
        for module in imported_modules(path):
            yield str(path.relative_to(REPO)), module


def test_the_bot_imports_no_development_package() -> None:
    offending = [
        (path, module)
        for path, module in imports_under("bot")
        if module.split(".")[0] in DEVELOPMENT_PACKAGES
    ]
    assert offending == []


def imports_of(package: str, *, outside: str | None = None) -> list[tuple[str, str]]:
    """(file, module) for every import in `package` (all of bot/ but `outside` when given)."""
    if outside is None:
        return list(imports_under(package))
    return [(path, m) for path, m in imports_under("bot") if not path.startswith(outside)]


def reaching(found: list[tuple[str, str]], *targets: str) -> list[tuple[str, str]]:
    return [(p, m) for p, m in found if any(m == t or m.startswith(t + ".") for t in targets)]


def test_only_the_render_stage_builds_block_kit() -> None:
    outside = imports_of("bot", outside="bot/slack/render/")
    assert reaching(outside, "slack_sdk.models", "bot.slack.render.blocks") == []


def test_the_triage_engine_and_the_grading_know_nothing_of_slack() -> None:
    found = [*imports_of("bot/triage"), *imports_of("bot/sources")]
    found += [("bot/grading.py", m) for m in imported_modules(REPO / "bot" / "grading.py")]
    assert reaching(found, "bot.slack", "slack_sdk", "slack_bolt", "bot.incidents") == []


def test_the_outbox_writes_no_incident_and_incidents_use_only_its_interface() -> None:
    assert reaching(imports_of("bot/outbox"), "bot.incidents", "bot.triage", "bot.digest") == []
    into_outbox = reaching(imports_of("bot/incidents"), "bot.outbox")
    assert {module for _, module in into_outbox} <= {"bot.outbox.ops", "bot.outbox.queue"}
