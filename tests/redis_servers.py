"""Private Redis servers for tests that kill, restart or fail over their Redis: a `redis-server`
(with an append-only file, so a restart keeps what was written) on a free loopback port, and a
primary + replica watched by a real `redis-sentinel`. Never the shared Redis."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT

from bot.store.target import SentinelTarget
from tests.waiting import eventually

SERVICE = "bot-primary"
REDIS_STATE = "the Redis set-up's expected state"


async def raw_command(client: Redis, *args: EncodableT) -> Any:
    """One command as sent (SENTINEL, REPLICAOF, WAIT), its reply as redis-py parses it."""
    # redis-py leaves Redis.execute_command unannotated.
    return await client.execute_command(*args)  # type: ignore[no-untyped-call]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available(binary: str) -> bool:
    return shutil.which(binary) is not None


@dataclass
class RedisServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    replica_of: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
            "--dir", str(self.workdir), "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--protected-mode", "no",
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        """SIGKILL: the server dies without saving anything beyond its append-only file."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    async def wait_ready(self, within: float = 15.0) -> None:
        client = Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + within
        try:
            while True:
                try:
                    if await client.ping():
                        info = await client.info("persistence")
                        if not info.get("loading"):
                            return
                except (OSError, ConnectionError, Exception):
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"redis-server on {self.port} never answered")
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()


@dataclass
class SentinelSet:
    """A primary, its replica and one sentinel (quorum 1) that fails over within seconds.

    One replica, so the replica that confirms a durable write is the one Sentinel promotes.
    """

    workdir: Path
    primary: RedisServer = field(init=False)
    replicas: list[RedisServer] = field(init=False)
    sentinel_port: int = field(default_factory=free_port)
    sentinel: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.primary = RedisServer(self.workdir / "primary")
        self.replicas = [RedisServer(self.workdir / "replica", replica_of=self.primary.port)]

    @property
    def target(self) -> SentinelTarget:
        return SentinelTarget(sentinels=(("127.0.0.1", self.sentinel_port),), service=SERVICE)

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    async def start(self) -> None:
        self.primary.start()
        await self.primary.wait_ready()
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            await replica.wait_ready()
        config = self.workdir / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.workdir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 4000\n"
            f"sentinel parallel-syncs {SERVICE} 2\n"
            # Known at once, instead of after Sentinel's first 10-second INFO round.
            + "".join(
                f"sentinel known-replica {SERVICE} 127.0.0.1 {r.port}\n" for r in self.replicas
            )
        )
        self._start_sentinel(config)
        await self.wait_for_replica_in_sync()
        await eventually(self._primary_confirms_writes, 20, every=0.1, what=REDIS_STATE)
        await eventually(self._sentinel_sees_replica, 15, every=0.1, what=REDIS_STATE)

    def _start_sentinel(self, config: Path) -> None:
        self.sentinel = subprocess.Popen(
            ["redis-sentinel", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async def primary_port(self) -> int:
        client = Redis(port=self.sentinel_port, socket_timeout=1, decode_responses=True)
        try:
            host_port = await raw_command(client, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        finally:
            await client.aclose()
        return int(host_port[1])

    async def fail_over(self) -> int:
        """Make the replica the primary (as Sentinel does when the primary fails); return the
        new primary's port once it accepts writes.

        Sentinel turns the old primary into a replica of the new one at its next 10-second
        check; the test does it at once, as an orchestrator restarting the old pod would.
        """
        before = await self.primary_port()
        client = Redis(port=self.sentinel_port, socket_timeout=2)
        try:
            await raw_command(client, "SENTINEL", "FAILOVER", SERVICE)
        finally:
            await client.aclose()
        await eventually(lambda: self._moved_from(before), 30, every=0.1, what=REDIS_STATE)
        after = await self.primary_port()
        old = Redis(port=before, socket_timeout=2)
        try:
            await raw_command(old, "REPLICAOF", "127.0.0.1", str(after))
        finally:
            await old.aclose()
        return after

    async def wait_for_replica_in_sync(self) -> None:
        await eventually(self._replica_linked, 20, every=0.1, what=REDIS_STATE)

    def stop(self) -> None:
        if self.sentinel is not None and self.sentinel.poll() is None:
            self.sentinel.terminate()
            self.sentinel.wait(timeout=10)
        for replica in self.replicas:
            replica.stop()
        self.primary.stop()

    async def _sentinel_sees_replica(self) -> bool:
        client = Redis(port=self.sentinel_port, socket_timeout=1, decode_responses=True)
        try:
            replicas = await raw_command(client, "SENTINEL", "REPLICAS", SERVICE)
        except Exception:
            return False
        finally:
            await client.aclose()
        return bool(replicas)

    async def _replica_linked(self) -> bool:
        for replica in self.replicas:
            client = Redis(port=replica.port, socket_timeout=1, decode_responses=True)
            try:
                info = await client.info("replication")
            except Exception:
                return False
            finally:
                await client.aclose()
            if info.get("master_link_status") != "up":
                return False
        return True

    async def _primary_confirms_writes(self) -> bool:
        """The replica's link can be up before the primary counts it as online for WAIT;
        a durable write made in that gap times out."""
        client = Redis(port=self.primary.port, socket_timeout=2)
        try:
            await client.set("replication-probe", "1")
            confirmed = await raw_command(client, "WAIT", len(self.replicas), 1000)
        except Exception:
            return False
        finally:
            await client.aclose()
        return int(confirmed) >= len(self.replicas)

    async def _moved_from(self, old_port: int) -> bool:
        try:
            port = await self.primary_port()
        except Exception:
            return False
        if port == old_port:
            return False
        client = Redis(port=port, socket_timeout=1, decode_responses=True)
        try:
            info = await client.info("replication")
        except Exception:
            return False
        finally:
            await client.aclose()
        return info.get("role") == "master"
