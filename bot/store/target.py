"""Where the Redis store lives: one server (`redis://`, `rediss://`, `unix://`) or a primary
found through Redis Sentinel, which follows it across failovers. Parsing only, so settings can
check it without loading the Redis client.

Sentinel is named in the URL, ``redis+sentinel://[:password@]host:port[,host:port]/service[/db]``,
or by listing the sentinels in `REDIS_SENTINELS` (``host:port,host:port``) with a URL that holds
only the rest (``redis+sentinel://:password@/service/0``, or none: service ``mymaster``, db 0).
The password is the primary's; sentinels are asked without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

SENTINEL_SCHEME = "redis+sentinel://"
DEFAULT_SENTINEL_SERVICE = "mymaster"
DEFAULT_SENTINEL_PORT = 26379


class RedisTargetError(ValueError):
    """A Redis URL or sentinel list that cannot be used; the message never holds a password."""


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    password: str | None = None
    username: str | None = None


RedisTarget = str | SentinelTarget


def redis_target(url: str | None, sentinels: str | None = None) -> RedisTarget | None:
    """What to connect to, from REDIS_URL and REDIS_SENTINELS; None for the in-memory store."""
    if sentinels or (url and url.startswith(SENTINEL_SCHEME)):
        return _sentinel_target(url or SENTINEL_SCHEME + "/" + DEFAULT_SENTINEL_SERVICE, sentinels)
    return url or None


def _sentinel_target(url: str, extra_sentinels: str | None) -> SentinelTarget:
    if not url.startswith(SENTINEL_SCHEME):
        raise RedisTargetError(
            "must go with REDIS_URL unset or in the form "
            "redis+sentinel://[:password@]/service[/db] (REDIS_URL names no sentinel)"
        )
    rest = url[len(SENTINEL_SCHEME) :]
    credentials, _, rest = rest.rpartition("@")
    hosts, _, path = rest.partition("/")
    sentinels = _addresses(hosts) + _addresses(extra_sentinels or "")
    if not sentinels:
        raise RedisTargetError(
            "no sentinel given: list them in the URL (redis+sentinel://host:26379/mymaster) "
            "or in REDIS_SENTINELS (host:26379,host2:26379)"
        )
    service, _, db = path.partition("/")
    if db and not db.isdigit():
        raise RedisTargetError(f"the database after the service name must be a number, not {db!r}")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    return SentinelTarget(
        sentinels=tuple(sentinels),
        service=unquote(service) or DEFAULT_SENTINEL_SERVICE,
        db=int(db or 0),
        password=unquote(password) or None,
        username=unquote(username) or None,
    )


def _addresses(text: str) -> list[tuple[str, int]]:
    found = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        if port and not port.isdigit():
            raise RedisTargetError(f"a sentinel address must be host:port, not {part!r}")
        found.append((host, int(port or DEFAULT_SENTINEL_PORT)))
    return found
