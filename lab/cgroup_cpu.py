"""A CPU limit and request for one lab process, with cgroup v1's `cpu` controller, and its
counters.

    group = CpuCgroup.create("lab-1a2b-shop-1", quota_cores=0.5)   # CgroupUnavailable if not
    group.add(pid)
    group.stat()          # {"nr_periods": ..., "nr_throttled": ..., "throttled_time": ...}
    group.remove()        # once the process has exited

The kernel then throttles the process exactly as it throttles a Kubernetes container with a
CPU limit: it may run `quota` microseconds in every `period`, and waits for the next period.
`shares` is what the kubelet makes of a CPU request (`shares_for_request`): when the core is
contended, each group gets CPU in proportion to its shares, so a pod that requested little
next to one that requested a lot gets little.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lab.cgroup_v1 import controller_problem, make_group, move_into, remove_group

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
DEFAULT_SHARES = 1024  # what a group gets unless told otherwise, as one process in the root
MIN_SHARES = 2  # the kubelet's floor, what a pod that requests no CPU gets


class CgroupUnavailable(RuntimeError):
    """This machine does not let the lab make a CPU cgroup; the message says why."""


def cgroup_problem(root: Path = CPU_ROOT) -> str | None:
    """Why a CPU cgroup cannot be made here, or None when it can."""
    return controller_problem(root, "cpu.cfs_quota_us", "cpu")


@dataclass(frozen=True)
class CpuCgroup:
    path: Path
    quota_cores: float | None  # None: no limit
    period_us: int = PERIOD_US

    @classmethod
    def create(
        cls,
        name: str,
        quota_cores: float | None = None,
        root: Path = CPU_ROOT,
        *,
        shares: int = DEFAULT_SHARES,
    ) -> CpuCgroup:
        problem = cgroup_problem(root)
        if problem:
            raise CgroupUnavailable(problem)
        path = make_group(root, name)
        group = cls(path, quota_cores)
        (path / "cpu.shares").write_text(str(shares))
        (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        quota_us = -1 if quota_cores is None else round(quota_cores * PERIOD_US)
        (path / "cpu.cfs_quota_us").write_text(str(quota_us))
        return group

    def add(self, pid: int) -> None:
        move_into(self.path, pid)

    def stat(self) -> dict[str, int]:
        found = {}
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.isdigit():
                found[key] = int(value)
        return found

    def remove(self) -> None:
        remove_group(self.path)


def shares_for_request(cores: float) -> int:
    """The `cpu.shares` the kubelet gives a container that requests `cores` CPU."""
    return max(MIN_SHARES, round(cores * 1024))


def pin_to_core(pid: int, core: int) -> None:
    """Let every thread of the process run on `core` only (threads it starts later inherit
    it): the lab's stand-in for a small node that the process shares with its neighbours."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {core})
        except ProcessLookupError:
            continue  # the thread ended meanwhile


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
