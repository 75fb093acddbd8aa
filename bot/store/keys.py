"""Every Redis key and every expiry the bot uses, in one place.

All keys share one prefix (``triagebot:`` by default) so an operator can find, count or delete
the bot's data with ``SCAN MATCH triagebot:*``, and tests can isolate themselves with a prefix
of their own such as ``test:<uuid>:``. `KeySpace` builds the physical keys; the functions under
"Names" build the logical names callers pass to the store (claims, values, locks, leases, paces).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "triagebot:"

DAY_SECONDS = 24 * 60 * 60

# An alert delivery or Slack event is remembered this long, so a retry within the window is a
# no-op. Senders retry for hours at most; a week leaves room for replays of old payloads.
IDEMPOTENCY_TTL_SECONDS: float = 7 * DAY_SECONDS

# Open incidents never expire; a resolved one (with its timeline) is kept this long afterwards.
RESOLVED_INCIDENT_TTL_SECONDS: float = 30 * DAY_SECONDS

# A resolved incident whose alert fires again within this window reopens in the same thread.
REOPEN_WINDOW_SECONDS: float = 30 * 60.0

# The lock around one incident group's read-modify-write; renewed while held.
GROUP_LOCK_TTL_SECONDS: float = 15.0

# Outbox: a channel lane's owner renews its lease every third of this; when the owner dies,
# another replica takes the lane once it lapses.
LANE_LEASE_SECONDS: float = 6.0
# What the outbox remembers of each write (attempt, Slack's ts, failure) and of each slot.
OUTBOX_RECORD_TTL_SECONDS: float = 30 * DAY_SECONDS
DEAD_LETTERS_KEPT = 1000

# Triage runs under a lease renewed while it runs; a sweeper restarts triages whose owner died.
TRIAGE_LEASE_SECONDS: float = 20.0
TRIAGE_RECORD_TTL_SECONDS: float = 30 * DAY_SECONDS

# App Home: the latest health verdict per service, and who looked at Home recently.
HEALTH_MARK_TTL_SECONDS: float = 6 * 3600.0
HOME_VIEWER_SECONDS: float = 30 * 60.0
HOME_VIEWERS_KEPT = 200

# Weekly digest: the "sent" record outlives its week; the build lock is renewed while building.
DIGEST_SENT_TTL_SECONDS: float = 15 * DAY_SECONDS
DIGEST_BUILD_LOCK_TTL_SECONDS: float = 300.0

TRIAGE_WORK = "triage"


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

    def firing(self, incident_id: str) -> str:
        return f"{self.prefix}firing:{incident_id}"

    def received(self, incident_id: str) -> str:
        return f"{self.prefix}received:{incident_id}"

    def incident_group(self, group_key: str) -> str:
        return f"{self.prefix}group:{group_key}"

    def open_incidents(self) -> str:
        return f"{self.prefix}incidents:open"

    def incidents_opened(self) -> str:
        return f"{self.prefix}incidents:opened"

    def incident_sequence(self) -> str:
        return f"{self.prefix}incidents:seq"

    def lane(self, lane: str) -> str:
        return f"{self.prefix}outbox:lane:{lane}"

    def lanes(self) -> str:
        return f"{self.prefix}outbox:lanes"

    def lane_owner(self, lane: str) -> str:
        return f"{self.prefix}outbox:owner:{lane}"

    def slot(self, slot: str) -> str:
        return f"{self.prefix}outbox:slot:{slot}"

    def op(self, op_id: str) -> str:
        return f"{self.prefix}outbox:op:{op_id}"

    def dead_letters(self) -> str:
        return f"{self.prefix}outbox:dead"

    def lock(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"

    def work(self, kind: str) -> str:
        return f"{self.prefix}work:{kind}"

    def value(self, key: str) -> str:
        return f"{self.prefix}kv:{key}"

    def rate(self, name: str) -> str:
        return f"{self.prefix}rate:{name}"

    def members(self, name: str) -> str:
        return f"{self.prefix}members:{name}"

    def pace(self, name: str) -> str:
        return f"{self.prefix}pace:{name}"


# The consumer group every lane stream has.
LANE_GROUP = "delivery"


# Names: the logical keys callers pass to claim_once, get_value, acquire_lock, paces...


def notification(digest: str) -> str:
    return f"notification:{digest}"


def slack_event(event_id: str) -> str:
    return f"slack-event:{event_id}"


def resolved_group(group_key: str) -> str:
    return f"resolved-group:{group_key}"


def group_lock(group_key: str) -> str:
    return f"incident-group:{group_key}"


def triage_once(incident_id: str, opening: int) -> str:
    return f"triage-started:{incident_id}:{opening}"


def triage_lease(incident_id: str) -> str:
    return f"triage:{incident_id}"


def health_mark(service: str) -> str:
    return f"health-mark:{service}"


HOME_VIEWERS = "home-viewers"


def rate_limit(command: str, user_id: str) -> str:
    return f"{command}:{user_id}"


def digest_lock(channel: str, week: str) -> str:
    return f"digest:{channel}:{week}"


def digest_sent(channel: str, week: str) -> str:
    return f"digest-sent:{channel}:{week}"


def digest_since(channel: str) -> str:
    return f"digest-since:{channel}"


def post_pace(channel: str) -> str:
    """Slack's per-channel posting pace (about one message a second)."""
    return f"post:{channel}"


def method_pace(method: str) -> str:
    """A Web API method's workspace-wide allowance (its rate-limit tier)."""
    return f"method:{method}"


def profile_capture(service: str) -> str:
    """Held while a profile of `service` is being taken, so at most one runs at a time."""
    return f"profile-capture:{service}"


def profile_rate(service: str) -> str:
    return f"profile:{service}"


def _escape_glob(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
