"""A CPU quota for one lab process, with cgroup v1's `cpu` controller, and its counters.

    group = CpuCgroup.create("lab-1a2b-shop-1", quota_cores=0.5)   # CgroupUnavailable if not
    group.add(pid)
    group.stat()          # {"nr_periods": ..., "nr_throttled": ..., "throttled_time": ...}
    group.remove()        # once the process has exited

The kernel then throttles the process exactly as it throttles a Kubernetes container with a
CPU limit: it may run `quota` microseconds in every `period`, and waits for the next period.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000


class CgroupUnavailable(RuntimeError):
    """This machine does not let the lab make a CPU cgroup; the message says why."""


def cgroup_problem(root: Path = CPU_ROOT) -> str | None:
    """Why a CPU cgroup cannot be made here, or None when it can."""
    if not (root / "cpu.cfs_quota_us").exists():
        return f"no cgroup v1 cpu controller at {root} (cgroup v2 only, or not mounted)"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (run as root, or in a container with cgroup access)"
    return None


@dataclass(frozen=True)
class CpuCgroup:
    path: Path
    quota_cores: float
    period_us: int = PERIOD_US

    @classmethod
    def create(cls, name: str, quota_cores: float, root: Path = CPU_ROOT) -> CpuCgroup:
        problem = cgroup_problem(root)
        if problem:
            raise CgroupUnavailable(problem)
        path = root / name
        path.mkdir(exist_ok=True)
        group = cls(path, quota_cores)
        (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (path / "cpu.cfs_quota_us").write_text(str(round(quota_cores * PERIOD_US)))
        return group

    def add(self, pid: int) -> None:
        """Move the whole process (every thread) into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def stat(self) -> dict[str, int]:
        found = {}
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.isdigit():
                found[key] = int(value)
        return found

    def remove(self) -> None:
        """Delete the group; any process still in it goes back to the root group first."""
        root = self.path.parent
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (root / "cgroup.procs").write_text(pid)
            except OSError:
                continue  # it exited meanwhile
        self.path.rmdir()


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
