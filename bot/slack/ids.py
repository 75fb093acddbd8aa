"""The shapes of Slack's ids, checked before an id is written into a message or a log line."""

from __future__ import annotations

import re

USER_ID_PATTERN = r"^[UW][A-Z0-9]{2,30}$"
USER_ID = re.compile(USER_ID_PATTERN.replace("$", r"\Z"))
GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}\Z")
EVENT_ID = re.compile(r"Ev[A-Z0-9]{4,40}\Z")


def loggable(value: object, shape: re.Pattern[str] = USER_ID) -> str:
    """`value` if it has the id's shape, else a placeholder: whatever a request carried in an
    id field is never written to a log as it is."""
    text = str(value)
    return text if shape.match(text) else "(malformed id)"
