"""A memory limit for one lab process, with cgroup v1's `memory` controller.

    group = MemoryCgroup.create("lab-1a2b-shop-1", limit_bytes=160 * 2**20)
    group.add(pid)
    group.oom_kills()     # how many times the kernel killed a process here for memory

Over the limit, the kernel's OOM killer ends the process with SIGKILL, exactly what happens to
a Kubernetes container over its memory limit (reported there as `OOMKilled`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MEMORY_ROOT = Path("/sys/fs/cgroup/memory")


def memory_cgroup_problem(root: Path = MEMORY_ROOT) -> str | None:
    """Why a memory cgroup cannot be made here, or None when it can."""
    if not (root / "memory.limit_in_bytes").exists():
        return f"no cgroup v1 memory controller at {root} (cgroup v2 only, or not mounted)"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (run as root, or in a container with cgroup access)"
    return None


@dataclass(frozen=True)
class MemoryCgroup:
    path: Path
    limit_bytes: int

    @classmethod
    def create(cls, name: str, limit_bytes: int, root: Path = MEMORY_ROOT) -> MemoryCgroup:
        problem = memory_cgroup_problem(root)
        if problem:
            raise RuntimeError(problem)
        path = root / name
        path.mkdir(exist_ok=True)
        (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        return cls(path, limit_bytes)

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        root = self.path.parent
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (root / "cgroup.procs").write_text(pid)
            except OSError:
                continue
        self.path.rmdir()
