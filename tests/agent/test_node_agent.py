"""The Node.js agent's own tests (agent/test, Node's built-in runner), run as part of pytest."""

from __future__ import annotations

import subprocess
from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parents[2] / "agent"


def test_node_agent_suite_passes() -> None:
    test_files = sorted(str(path) for path in (AGENT_DIR / "test").glob("*.test.js"))
    assert test_files, "no agent tests found under agent/test"
    result = subprocess.run(
        ["node", "--test", *test_files],
        cwd=AGENT_DIR,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
