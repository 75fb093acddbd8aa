"""Redis backend: shared state for any number of bot processes.

Outbox design: a sorted set of entry ids (scored by a sequence, so FIFO), a hash of items and a
hash of leases, claimed by one Lua script. A Stream consumer group was the other candidate, but
XAUTOCLAIM judges a lease by the *claimer's* idle threshold, so a worker with a short lease could
take entries another worker still holds; here each lease keeps its own deadline, measured on the
server's clock. It also needs no consumer-group bookkeeping that vanishes with the key.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot import telemetry
from bot.store import redis_scripts
from bot.store.base import StoreUnavailable, checked_ttl
from bot.store.keys import RESOLVED_INCIDENT_TTL_SECONDS, KeySpace

CONNECT_TIMEOUT_SECONDS = 2.0
OPERATION_TIMEOUT_SECONDS = 2.0
HEALTH_CHECK_INTERVAL_SECONDS = 30
# One quick retry rides out a dropped idle connection; more would only delay the error.
RETRIES = 1

_UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


def connect(url: str) -> Redis:
    """A client for `url` with bounded timeouts. Connecting happens on first use."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=OPERATION_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), RETRIES),
    )


def _milliseconds(seconds: float) -> int:
    return max(1, round(checked_ttl(seconds) * 1000))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"unexpected reply from Redis: {type(value).__name__}")


class RedisStore:
    """The Store contract on Redis. Every key lives under `keys.prefix`."""

    def __init__(self, client: Redis, keys: KeySpace) -> None:
        self._redis = client
        self._keys = keys
        self._closed = False
        self._open_incident = client.register_script(redis_scripts.OPEN_INCIDENT)
        self._create_incident = client.register_script(redis_scripts.CREATE_INCIDENT_IF_ABSENT)
        self._resolve_incident = client.register_script(redis_scripts.RESOLVE_INCIDENT)
        self._append_timeline = client.register_script(redis_scripts.APPEND_TIMELINE)
        self._outbox_push = client.register_script(redis_scripts.OUTBOX_PUSH)
        self._outbox_claim = client.register_script(redis_scripts.OUTBOX_CLAIM)
        self._release_lock = client.register_script(redis_scripts.RELEASE_LOCK)
        self._extend_lock = client.register_script(redis_scripts.EXTEND_LOCK)

    @property
    def name(self) -> str:
        return "redis"

    async def ping(self) -> None:
        with self._guard("ping"):
            await self._redis.ping()

    async def close(self) -> None:
        self._closed = True
        await self._redis.aclose()

    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        ttl_ms = _milliseconds(ttl_seconds)
        with self._guard("claim_once"):
            return bool(await self._redis.set(self._keys.claim(key), "1", nx=True, px=ttl_ms))

    async def release_claim(self, key: str) -> None:
        with self._guard("release_claim"):
            await self._redis.delete(self._keys.claim(key))

    async def put_incident(
        self, incident_id: str, group_key: str, document: str, *, open: bool
    ) -> None:
        keys = self._keys
        with self._guard("put_incident"):
            if open:
                await self._open_incident(
                    keys=self._incident_keys(incident_id, group_key), args=[incident_id, document]
                )
                return
            retention_ms = _milliseconds(RESOLVED_INCIDENT_TTL_SECONDS)
            await self._resolve_incident(
                keys=[
                    keys.incident(incident_id),
                    keys.incident_group(group_key),
                    keys.open_incidents(),
                    keys.timeline(incident_id),
                ],
                args=[incident_id, document, retention_ms],
            )

    async def get_incident(self, incident_id: str) -> str | None:
        with self._guard("get_incident"):
            return _text(await self._redis.get(self._keys.incident(incident_id)))

    async def incident_for_group(self, group_key: str) -> str | None:
        with self._guard("incident_for_group"):
            return _text(await self._redis.get(self._keys.incident_group(group_key)))

    async def open_incident_ids(self) -> list[str]:
        with self._guard("open_incident_ids"):
            ids = await self._redis.zrange(self._keys.open_incidents(), 0, -1, desc=True)
        return [str(_text(incident_id)) for incident_id in ids]

    async def create_incident_if_absent(
        self, group_key: str, incident_id: str, document: str
    ) -> str:
        with self._guard("create_incident_if_absent"):
            owner = str(
                _text(
                    await self._create_incident(
                        keys=self._incident_keys(incident_id, group_key),
                        args=[incident_id, document],
                    )
                )
            )
            if owner == incident_id:
                await self._note_opened(incident_id)
        return owner

    async def _note_opened(self, incident_id: str) -> None:
        now = time.time()
        key = self._keys.incidents_opened()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {incident_id: now}, nx=True)
            pipe.zremrangebyscore(key, "-inf", now - RESOLVED_INCIDENT_TTL_SECONDS)
            await pipe.execute()

    async def incident_ids_opened_since(self, since: float) -> list[str]:
        with self._guard("incident_ids_opened_since"):
            ids = await self._redis.zrangebyscore(self._keys.incidents_opened(), since, "+inf")
        return [str(_text(incident_id)) for incident_id in ids]

    async def append_timeline(self, incident_id: str, entry: str) -> None:
        keys = [self._keys.timeline(incident_id), self._keys.incident(incident_id)]
        with self._guard("append_timeline"):
            await self._append_timeline(keys=keys, args=[entry])

    async def timeline(self, incident_id: str) -> list[str]:
        with self._guard("timeline"):
            entries = await self._redis.lrange(self._keys.timeline(incident_id), 0, -1)
        return [str(_text(entry)) for entry in entries]

    async def outbox_push(self, item: str) -> str:
        keys = [self._keys.outbox_queue(), self._keys.outbox_items(), self._keys.outbox_sequence()]
        with self._guard("outbox_push"):
            return str(_text(await self._outbox_push(keys=keys, args=[item])))

    async def outbox_claim(
        self, consumer: str, lease_seconds: float, limit: int
    ) -> list[tuple[str, str]]:
        keys = [self._keys.outbox_queue(), self._keys.outbox_items(), self._keys.outbox_leases()]
        args: list[str | int] = [consumer, _milliseconds(lease_seconds), limit]
        with self._guard("outbox_claim"):
            flat = [str(_text(part)) for part in await self._outbox_claim(keys=keys, args=args)]
        return list(zip(flat[::2], flat[1::2], strict=True))

    async def outbox_ack(self, entry_id: str) -> None:
        with self._guard("outbox_ack"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._keys.outbox_queue(), entry_id)
                pipe.hdel(self._keys.outbox_items(), entry_id)
                pipe.hdel(self._keys.outbox_leases(), entry_id)
                await pipe.execute()

    async def outbox_pending_count(self) -> int:
        with self._guard("outbox_pending_count"):
            return int(await self._redis.zcard(self._keys.outbox_queue()))

    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        ttl_ms = _milliseconds(ttl_seconds)
        with self._guard("acquire_lock"):
            acquired = await self._redis.set(self._keys.lock(name), token, nx=True, px=ttl_ms)
        return token if acquired else None

    async def release_lock(self, name: str, token: str) -> bool:
        with self._guard("release_lock"):
            return bool(await self._release_lock(keys=[self._keys.lock(name)], args=[token]))

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        args: list[str | int] = [token, _milliseconds(ttl_seconds)]
        with self._guard("extend_lock"):
            return bool(await self._extend_lock(keys=[self._keys.lock(name)], args=args))

    async def get_value(self, key: str) -> str | None:
        with self._guard("get_value"):
            return _text(await self._redis.get(self._keys.value(key)))

    async def set_value(self, key: str, value: str, ttl_seconds: float | None) -> None:
        ttl_ms = None if ttl_seconds is None else _milliseconds(ttl_seconds)
        with self._guard("set_value"):
            await self._redis.set(self._keys.value(key), value, px=ttl_ms)

    def _incident_keys(self, incident_id: str, group_key: str) -> list[str]:
        keys = self._keys
        return [
            keys.incident(incident_id),
            keys.incident_group(group_key),
            keys.open_incidents(),
            keys.incident_sequence(),
            keys.timeline(incident_id),
        ]

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
