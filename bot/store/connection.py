"""Clients for the Redis store, with bounded timeouts, for one server or through Sentinel."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot.store.target import RedisTarget

CONNECT_TIMEOUT_SECONDS = 2.0
OPERATION_TIMEOUT_SECONDS = 2.0
HEALTH_CHECK_INTERVAL_SECONDS = 30
# One quick retry rides out a dropped idle connection; more would only delay the error.
RETRIES = 1


def connect(target: RedisTarget) -> Redis:
    """A client with bounded timeouts. Connecting happens on first use.

    Behind Sentinel, closing the client also closes its connections to the sentinels.
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": OPERATION_TIMEOUT_SECONDS,
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), RETRIES),
    }
    if isinstance(target, str):
        return Redis.from_url(target, **options)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels),
        sentinel_kwargs={
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": OPERATION_TIMEOUT_SECONDS,
        },
    )
    client: Redis = sentinel.master_for(
        target.service,
        db=target.db,
        password=target.password,
        username=target.username,
        **options,
    )
    return _closing_sentinels(client, sentinel)


def _closing_sentinels(client: Redis, sentinel: Sentinel) -> Redis:
    close_client = client.aclose

    async def aclose(close_connection_pool: bool | None = None) -> None:
        await close_client(close_connection_pool)
        for sentinel_client in sentinel.sentinels:
            await sentinel_client.aclose()

    client.aclose = aclose  # type: ignore[method-assign]
    return client
