"""A noisy neighbour: another pod on the same node that keeps a core busy in bursts.

    async with busy_neighbour("lab-1a2b-batch", core=1, request_cores=2.0):
        ...   # a lab pod pinned to core 1 with a small CPU request now waits for CPU

The neighbour is a process that spins on `core` for `busy_s`, rests for `idle_s` and starts
again, from a CPU cgroup with the shares the kubelet gives a pod that requests
`request_cores`. A lab pod with a much smaller request pinned to the same core
(`PodSpec.pinned_core`) gets next to nothing while the neighbour spins, so each timer and
request waits for the burst to end: the pod lags about `busy_s`, steadily, while it uses
little CPU and is never throttled, as a pod does on an overcommitted node. In the rests it
catches up, so it keeps answering. The cgroup is removed and the process ended on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from lab.cgroup_cpu import CpuCgroup, pin_to_core, shares_for_request

BURSTS = """
import sys, time
busy, idle = float(sys.argv[1]), float(sys.argv[2])
while True:
    until = time.monotonic() + busy
    while time.monotonic() < until:
        pass
    time.sleep(idle)
"""


@contextlib.asynccontextmanager
async def busy_neighbour(
    name: str, *, core: int, request_cores: float, busy_s: float = 0.3, idle_s: float = 0.1
) -> AsyncIterator[int]:
    """Run the neighbour until the block ends; yields its pid."""
    group = CpuCgroup.create(name, shares=shares_for_request(request_cores))
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BURSTS, str(busy_s), str(idle_s)
        )
        try:
            await asyncio.to_thread(pin_to_core, process.pid, core)
            await asyncio.to_thread(group.add, process.pid)
            yield process.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    finally:
        group.remove()
