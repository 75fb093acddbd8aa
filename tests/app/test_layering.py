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
