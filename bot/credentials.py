"""Bearer tokens: how they are written in settings, and how a request's token is checked.

A token setting holds one token, or two separated by a comma while senders move from the old
one to the new one (rotation). Per-source alert tokens are `source:token` pairs:

    ALERT_WEBHOOK_TOKEN=old-long-random-string,new-long-random-string
    ALERT_SOURCE_TOKENS=grafana:a-token-for-grafana-only,datadog:another-long-token

Every comparison is constant-time and always checks every configured token, so neither the
time taken nor anything in an answer says which token came close.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence

MIN_TOKEN_CHARS = 16
MAX_TOKENS = 2  # the current one and the next, during a rotation
BEARER_PREFIX = "bearer "


def token_list(raw: str) -> tuple[str, ...]:
    """The tokens in a setting; ValueError (never quoting a token) when the shape is wrong."""
    tokens = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not tokens:
        raise ValueError("must hold a token")
    if len(tokens) > MAX_TOKENS:
        raise ValueError(f"holds {len(tokens)} tokens; at most {MAX_TOKENS} (old and new)")
    _check_lengths(tokens)
    return tokens


def source_tokens(raw: str, sources: Collection[str]) -> dict[str, tuple[str, ...]]:
    """`source:token` pairs, at most two per source, for sources in `sources`."""
    found: dict[str, list[str]] = {}
    for pair in (part.strip() for part in raw.split(",") if part.strip()):
        source, colon, token = pair.partition(":")
        source = source.strip().lower()
        if not colon or not token.strip():
            raise ValueError("must be source:token pairs separated by commas")
        if source not in sources:
            raise ValueError(f"names an unknown source {source!r}; known: {', '.join(sources)}")
        found.setdefault(source, []).append(token.strip())
    for source, tokens in found.items():
        if len(tokens) > MAX_TOKENS:
            raise ValueError(f"holds {len(tokens)} tokens for {source}; at most {MAX_TOKENS}")
        _check_lengths(tokens)
    return {source: tuple(tokens) for source, tokens in found.items()}


def _check_lengths(tokens: Sequence[str]) -> None:
    if any(len(token) < MIN_TOKEN_CHARS for token in tokens):
        raise ValueError(f"every token must be at least {MIN_TOKEN_CHARS} characters long")


def bearer_token(authorization: str) -> bytes | None:
    """The token of an `Authorization: Bearer …` header, or None without one."""
    if authorization[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
        return None
    return authorization[len(BEARER_PREFIX) :].strip().encode("utf-8", "replace")


def matches_any(offered: bytes | None, tokens: Sequence[bytes]) -> bool:
    """Constant-time: every token is compared, whichever matched."""
    if offered is None:
        return False
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(offered, token)
    return matched
