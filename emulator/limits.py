"""Slack's documented limits: message and Block Kit sizes, and Web API rate limits.

Rate limits use token buckets. `chat.postMessage` has Slack's special limit of about one message
per second per channel with a short burst; other methods belong to a tier with a per-minute
allowance (Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+ per minute).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

Clock = Callable[[], float]

TIER_PER_MINUTE: Mapping[int, int] = MappingProxyType({1: 1, 2: 20, 3: 50, 4: 100})

METHOD_TIERS: Mapping[str, int] = MappingProxyType(
    {
        "auth.test": 4,
        "chat.update": 3,
        "chat.postEphemeral": 4,
        "chat.getPermalink": 4,
        "reactions.add": 3,
        "files.getUploadURLExternal": 4,
        "files.completeUploadExternal": 4,
        "views.open": 4,
        "views.publish": 4,
        "views.update": 4,
        "conversations.info": 3,
        "conversations.history": 3,
        "conversations.replies": 3,
        "users.info": 4,
        "usergroups.users.list": 2,
    }
)


@dataclass(frozen=True)
class Limits:
    """Every limit the emulator enforces; tests pass a tighter copy to exercise back-off.

    Example: ``Limits(method_per_minute={"chat.update": 2}, post_message_burst=1)``.
    """

    max_blocks_per_message: int = 50
    max_blocks_per_view: int = 100
    max_section_text_chars: int = 3000
    max_section_field_chars: int = 2000
    max_header_text_chars: int = 150
    max_text_chars: int = 40_000
    post_message_per_second: float = 1.0
    post_message_burst: int = 3
    tier_per_minute: Mapping[int, int] = field(default_factory=lambda: dict(TIER_PER_MINUTE))
    method_per_minute: Mapping[str, int] = field(default_factory=dict)
    rate_limits_enabled: bool = True
    trigger_id_ttl_seconds: float = 3.0
    response_url_max_uses: int = 5

    def per_minute(self, method: str) -> int | None:
        """The allowance for a tiered method, or None when the method has no tier."""
        if method in self.method_per_minute:
            return self.method_per_minute[method]
        tier = METHOD_TIERS.get(method)
        return None if tier is None else self.tier_per_minute[tier]


class TokenBucket:
    """Holds up to `capacity` tokens, refilled at `rate` tokens per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._updated = now

    def take(self, now: float) -> float:
        """Take one token; answer 0 on success, else the seconds until one is available."""
        self._refill(now)
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now


class RateLimited(Exception):
    """The call is over its limit; Slack answers 429 with this `Retry-After` (whole seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class RateLimiter:
    """Per-method tier buckets plus per-channel buckets for `chat.postMessage`."""

    def __init__(self, limits: Limits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._method_buckets: dict[str, TokenBucket] = {}
        self._channel_buckets: dict[str, TokenBucket] = {}

    def check_method(self, method: str) -> None:
        allowance = self.limits.per_minute(method)
        if allowance is None or not self.limits.rate_limits_enabled:
            return
        bucket = self._method_buckets.get(method)
        if bucket is None:
            bucket = TokenBucket(allowance, allowance / 60.0, self._clock())
            self._method_buckets[method] = bucket
        self._take(bucket)

    def check_post_message(self, channel_id: str) -> None:
        if not self.limits.rate_limits_enabled:
            return
        bucket = self._channel_buckets.get(channel_id)
        if bucket is None:
            bucket = TokenBucket(
                self.limits.post_message_burst,
                self.limits.post_message_per_second,
                self._clock(),
            )
            self._channel_buckets[channel_id] = bucket
        self._take(bucket)

    def _take(self, bucket: TokenBucket) -> None:
        wait = bucket.take(self._clock())
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)))
