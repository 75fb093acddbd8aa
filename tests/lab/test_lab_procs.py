"""Process handling of the lab harness: whole groups stop, failures carry the log."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from lab.procs import (
    LabProcessError,
    free_port,
    free_ports,
    run_command,
    running_process,
    wait_until_ready,
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_stopping_a_process_also_stops_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    async with running_process("parent", ["sh", "-c", script], log_path=tmp_path / "p.log") as proc:
        for _ in range(50):
            if pid_file.exists() and pid_file.read_text().strip():
                break
            await asyncio.sleep(0.05)
        child = int(pid_file.read_text())
        assert alive(child)
    assert proc.exited
    for _ in range(50):
        if not alive(child):
            break
        await asyncio.sleep(0.05)
    assert not alive(child)


async def test_stop_happens_when_the_body_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with running_process("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log") as p:
            raise RuntimeError("boom")
    assert p.exited


async def test_readiness_failure_reports_the_exit_and_log_tail(tmp_path: Path) -> None:
    argv = ["sh", "-c", "echo cannot bind port; exit 3"]
    async with running_process("broken", argv, log_path=tmp_path / "b.log") as proc:
        with pytest.raises(LabProcessError, match=r"exited with code 3(.|\n)*cannot bind port"):
            await wait_until_ready(proc, f"http://127.0.0.1:{free_port()}/", timeout_s=10)


async def test_run_command_raises_with_output_on_failure() -> None:
    assert (await run_command(["sh", "-c", "echo fine"], timeout_s=5)).strip() == "fine"
    with pytest.raises(LabProcessError, match="exited with 2:\nnope"):
        await run_command(["sh", "-c", "echo nope; exit 2"], timeout_s=5)
    with pytest.raises(TimeoutError):
        await run_command(["sleep", "5"], timeout_s=0.2)


def test_ports_picked_together_are_all_different_and_avoid_the_taken_ones() -> None:
    # Hundreds, so that ports picked one at a time would almost surely repeat.
    taken = free_ports(300)
    assert len(set(taken)) == len(taken)
    again = free_ports(300, taken=taken)
    assert len(set(again)) == len(again)
    assert not set(again) & set(taken)
