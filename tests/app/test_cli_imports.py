"""The command line loads only what a command uses: `--help` and `check-config` stay fast.

Timings are measured by bench/cli_startup.py; these tests pin down why they are fast, so a
module-level import of something heavy shows up here as a failure rather than as a slow CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "matplotlib",
    "numpy",
    "aiohttp",
    "slack_bolt",
    "slack_sdk",
    "redis",
    "bot.app",
    "bot.charts",
    "bot.sources.apm",
    "bot.sources.prometheus",
    "bot.triage.engine",
    "bot.digest.compose",
)
PROBE = """
import json, sys
from bot.__main__ import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = json.loads(sys.stdin.read())
loaded = sorted(n for n in sys.modules if any(n == h or n.startswith(h + ".") for h in heavy))
print(json.dumps({"code": code, "loaded": loaded}))
"""
VALID_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-0000-test",
    "SLACK_SIGNING_SECRET": "test-signing-secret",
    "ALERT_WEBHOOK_TOKEN": "test-webhook-token",
    "BOT_CONFIG_DIR": str(REPO / "config"),
    "BOT_PLAYBOOK_DIR": str(REPO / "playbooks"),
}


class ProbeOutcome(TypedDict):
    code: int | str | None  # what `main` returned or SystemExit carried
    loaded: list[str]  # the heavy modules imported, sorted


def probe(argv: list[str], tmp_path: Path, heavy: tuple[str, ...] = HEAVY) -> ProbeOutcome:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        input=json.dumps(heavy),
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **VALID_ENV},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    last_line = result.stdout.strip().splitlines()[-1]
    outcome: ProbeOutcome = json.loads(last_line)
    return outcome


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["triage", "--help"], ["digest", "--help"], ["check-config"]],
    ids=" ".join,
)
def test_command_loads_no_heavy_module(argv: list[str], tmp_path: Path) -> None:
    outcome = probe(argv, tmp_path)
    assert outcome["code"] == 0
    assert outcome["loaded"] == [], f"`python -m bot {' '.join(argv)}` imported {outcome['loaded']}"


def test_probe_sees_modules_a_command_does_load(tmp_path: Path) -> None:
    outcome = probe(["check-config"], tmp_path, heavy=("pydantic", "yaml"))
    assert "pydantic" in outcome["loaded"]
    assert "yaml" in outcome["loaded"]


def test_charts_draw_without_matplotlib_in_the_calling_process(tmp_path: Path) -> None:
    script = """
import asyncio, sys
from bot.charts import ChartSpec, render_png_async, stop_chart_worker
from bot.models import SeriesPoint

async def draw() -> bytes:
    points = [SeriesPoint(t=1_700_000_000 + 60 * i, v=float(i)) for i in range(10)]
    return await render_png_async(ChartSpec("lag", {"p99": points}, unit="s"))

png = asyncio.run(draw())
stop_chart_worker()
print(png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "matplotlib" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "MPLCONFIGDIR": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split() == ["True", "False"], result.stderr
