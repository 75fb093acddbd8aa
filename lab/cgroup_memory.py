"""A memory limit for one lab process, with cgroup v1's `memory` controller.

    group = MemoryCgroup.create("lab-1a2b-shop-1", limit_bytes=160 * 2**20)
    group.add(pid)
    group.oom_kills()     # how many times the kernel killed a process here for memory

Over the limit, the kernel's OOM killer ends the process with SIGKILL, exactly what happens to
a Kubernetes container over its memory limit (reported there as `OOMKilled`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.cgroup_v1 import controller_problem, make_group, move_into, remove_group

MEMORY_ROOT = Path("/sys/fs/cgroup/memory")


def memory_cgroup_problem(root: Path = MEMORY_ROOT) -> str | None:
    """Why a memory cgroup cannot be made here, or None when it can."""
    return controller_problem(root, "memory.limit_in_bytes", "memory")


@dataclass(frozen=True)
class MemoryCgroup:
    path: Path
    limit_bytes: int

    @classmethod
    def create(cls, name: str, limit_bytes: int, root: Path = MEMORY_ROOT) -> MemoryCgroup:
        problem = memory_cgroup_problem(root)
        if problem:
            raise RuntimeError(problem)
        path = make_group(root, name)
        (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        return cls(path, limit_bytes)

    def add(self, pid: int) -> None:
        move_into(self.path, pid)

    def oom_kills(self) -> int:
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        remove_group(self.path)
