"""Every Redis key and every expiry the store uses, in one place.

All keys share one prefix (``triagebot:`` by default) so an operator can find, count or delete
the bot's data with ``SCAN MATCH triagebot:*``, and tests can isolate themselves with a prefix
of their own such as ``test:<uuid>:``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "triagebot:"

DAY_SECONDS = 24 * 60 * 60

# An alert delivery or Slack event is remembered this long, so a retry within the window is a
# no-op. Senders retry for hours at most; a week leaves room for replays of old payloads.
IDEMPOTENCY_TTL_SECONDS: float = 7 * DAY_SECONDS

# A lock that is not extended expires after this long, so a crashed holder cannot block others.
LOCK_TTL_SECONDS: float = 30.0

# Open incidents never expire; a resolved one (with its timeline) is kept this long afterwards.
RESOLVED_INCIDENT_TTL_SECONDS: float = 30 * DAY_SECONDS

# How long a claimed outbox entry stays invisible to other workers before it is retried.
OUTBOX_LEASE_SECONDS: float = 60.0

# Default expiry for cached values written with set_value by callers that have no better idea.
CACHE_TTL_SECONDS: float = 5 * 60.0


@dataclass(frozen=True)
class KeySpace:
    """Builds the store's keys under one prefix.

    >>> KeySpace("triagebot:").incident("inc-42")
    'triagebot:incident:inc-42'
    """

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not self.prefix:
            raise ValueError("KeySpace prefix must not be empty, for example 'triagebot:'")

    def pattern(self) -> str:
        """A SCAN MATCH pattern covering every key of this key space."""
        return _escape_glob(self.prefix) + "*"

    def claim(self, key: str) -> str:
        return f"{self.prefix}claim:{key}"

    def incident(self, incident_id: str) -> str:
        return f"{self.prefix}incident:{incident_id}"

    def timeline(self, incident_id: str) -> str:
        return f"{self.prefix}timeline:{incident_id}"

    def incident_group(self, group_key: str) -> str:
        return f"{self.prefix}group:{group_key}"

    def open_incidents(self) -> str:
        return f"{self.prefix}incidents:open"

    def incidents_opened(self) -> str:
        return f"{self.prefix}incidents:opened"

    def incident_sequence(self) -> str:
        return f"{self.prefix}incidents:seq"

    def outbox_queue(self) -> str:
        return f"{self.prefix}outbox:queue"

    def outbox_items(self) -> str:
        return f"{self.prefix}outbox:items"

    def outbox_leases(self) -> str:
        return f"{self.prefix}outbox:leases"

    def outbox_sequence(self) -> str:
        return f"{self.prefix}outbox:seq"

    def lock(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"

    def value(self, key: str) -> str:
        return f"{self.prefix}kv:{key}"


def _escape_glob(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
