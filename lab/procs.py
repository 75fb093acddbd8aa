"""Child processes for the lab: each runs in its own process group and always gets stopped.

A process started here is killed with its whole group when its context exits, on errors and
cancellation too; an `atexit` hook kills whatever a crashed interpreter left behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

STOP_GRACE_S = 5.0
_live_groups: set[int] = set()


class LabProcessError(RuntimeError):
    """A lab process failed to start or to become ready; carries the end of its log."""


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int, *, taken: Collection[int] = ()) -> list[int]:
    """`count` different free ports, none of them in `taken`. Every socket stays bound until
    all are picked: ports picked one at a time can come back twice (a lab service once got
    its agent's port for its metrics)."""
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        while len(ports) < count:
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in taken:
                ports.append(port)
        return ports


def log_tail(path: Path, max_chars: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-max_chars:]
    except OSError:
        return ""


@dataclass
class ManagedProcess:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def exited(self) -> bool:
        return self.process.returncode is not None

    def failure(self, reason: str) -> LabProcessError:
        return LabProcessError(
            f"{self.name}: {reason}\n--- log tail ---\n{log_tail(self.log_path)}"
        )

    async def stop(self) -> None:
        """SIGTERM the group, then SIGKILL it if it has not exited within the grace period."""
        pid = self.process.pid
        _signal_group(pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_GRACE_S)
        except TimeoutError:
            pass
        finally:
            # Children of the leader may still run even if the leader itself is gone.
            _signal_group(pid, signal.SIGKILL)
            _live_groups.discard(pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), STOP_GRACE_S)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_live_groups):
        _signal_group(pgid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def running_process(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> AsyncIterator[ManagedProcess]:
    """Start `argv` in a new session with stdout and stderr in `log_path`; stop it on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _live_groups.add(process.pid)
    managed = ManagedProcess(name=name, process=process, log_path=log_path)
    try:
        yield managed
    finally:
        await managed.stop()


async def wait_until_ready(proc: ManagedProcess, url: str, timeout_s: float = 30.0) -> None:
    """Poll `url` until it answers 2xx; fail early, with the log, if the process exits."""
    deadline = time.monotonic() + timeout_s
    request_timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=request_timeout) as session:
        while time.monotonic() < deadline:
            if proc.exited:
                raise proc.failure(f"exited with code {proc.process.returncode} before ready")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as response:
                    if response.status < 300:
                        return
            await asyncio.sleep(0.2)
    raise proc.failure(f"not ready at {url} after {timeout_s:.0f}s")


async def run_command(
    argv: Sequence[str],
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run a short command to completion; raise with its output if it fails or times out."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except BaseException:
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()
        raise
    text = output.decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise LabProcessError(f"{argv[0]} exited with {process.returncode}:\n{text[-2000:]}")
    return text
