"""What every part of the Redis backend shares: the client, the key space, the scripts, and the
translation of "cannot reach Redis" into StoreUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

from bot import telemetry
from bot.store.base import StoreUnavailable, checked_ttl
from bot.store.keys import KeySpace

# A primary demoted by a failover answers writes with READONLY until the client reconnects.
_UNREACHABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,
    redis_errors.BusyLoadingError,
    OSError,
)


def milliseconds(seconds: float) -> int:
    return max(1, round(checked_ttl(seconds) * 1000))


def text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"unexpected reply from Redis: {type(value).__name__}")


# How long a durable write waits for its replicas to confirm it.
CONFIRM_TIMEOUT_MS = 500


class RedisBase:
    def __init__(self, client: Redis, keys: KeySpace, *, replicas: int = 0) -> None:
        self._redis = client
        self._keys = keys
        self._replicas = replicas
        self._closed = False
        self._scripts: dict[str, AsyncScript] = {}

    async def _confirm(self, pipe: Pipeline, operation: str) -> list[Any]:
        """Run a pipeline whose last writes must survive a failover: with replicas, WAIT on
        the same connection, so every write made before (by any connection) is confirmed."""
        if self._replicas:
            pipe.wait(self._replicas, CONFIRM_TIMEOUT_MS)
        replies: list[Any] = await pipe.execute()
        if self._replicas and int(replies[-1]) < self._replicas:
            telemetry.STORE_ERRORS.labels(operation=operation).inc()
            # A primary that lost its replicas may have been replaced: reconnect, so the next
            # command asks Sentinel where the primary is now.
            await self._redis.connection_pool.disconnect()
            raise StoreUnavailable(f"no replica confirmed {operation} in time (failing over?)")
        return replies

    def _script(self, source: str) -> AsyncScript:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._redis.register_script(source)
        return script

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Turn "cannot reach Redis" into StoreUnavailable and count it.

        The message names the operation and error type only: driver messages can carry
        connection details, and the URL may embed a password.
        """
        try:
            if self._closed:
                raise redis_errors.ConnectionError("store closed")
            yield
        except _UNREACHABLE as error:
            telemetry.STORE_ERRORS.labels(operation=operation).inc()
            raise StoreUnavailable(
                f"Redis store unreachable during {operation} ({type(error).__name__})"
            ) from error
