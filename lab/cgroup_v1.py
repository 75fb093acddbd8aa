"""What the lab's cgroup v1 groups share, whatever the controller: checking that the controller
can be used, making a group, moving processes in, and removing the group."""

from __future__ import annotations

import os
from pathlib import Path


def controller_problem(root: Path, control_file: str, controller: str) -> str | None:
    """Why a group of `controller` cannot be made under `root`, or None when it can."""
    if not (root / control_file).exists():
        return f"no cgroup v1 {controller} controller at {root} (cgroup v2 only, or not mounted)"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (run as root, or in a container with cgroup access)"
    return None


def make_group(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(exist_ok=True)
    return path


def move_into(group: Path, pid: int) -> None:
    """Move the whole process (every thread) into the group."""
    (group / "cgroup.procs").write_text(str(pid))


def remove_group(group: Path) -> None:
    """Delete the group; any process still in it goes back to the root group first."""
    root = group.parent
    for pid in (group / "cgroup.procs").read_text().split():
        try:
            (root / "cgroup.procs").write_text(pid)
        except OSError:
            continue  # it exited meanwhile
    group.rmdir()
