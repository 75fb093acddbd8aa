"""Identifiers shared by the emulator and the request driver.

A trigger ID carries the millisecond it was issued, so the emulator can expire it after three
seconds the way Slack does: "<issued ms>.<random digits>.<random hex>".
"""

from __future__ import annotations

import secrets
import time


def make_trigger_id(now: float | None = None) -> str:
    issued_ms = int((time.time() if now is None else now) * 1000)
    return f"{issued_ms}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def trigger_issued_at(trigger_id: str) -> float | None:
    """When the trigger was issued (seconds), or None if it is not one of ours."""
    parts = trigger_id.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]) / 1000


def make_response_id() -> str:
    return secrets.token_hex(12)


def make_view_hash(now: float) -> str:
    return f"{int(now)}.{secrets.token_hex(4)}"
