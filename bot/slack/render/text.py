"""Text from outside the bot, made inert for Slack: the render stage's one escaping module.

Anything an alert, a metric label, an APM backend, a stored note or a command argument carries
goes through `escape` (or `code`) before it reaches a `mrkdwn` text or a message's `text`
fallback, so it can never become a mention, a channel ping or a disguised link. The bot's own
control sequences are built only here, from values whose shape is checked:

    escape("<!channel> ping")                 # '&lt;!channel&gt; ping'
    mention("U0ALICE")                        # '<@U0ALICE>'
    mention("U1> <!here")                     # shown as text, never as a mention
    link("https://grafana.example/d/1?x=1")   # '<https://grafana.example/d/1?x=1|grafana.example>'
    link("javascript:alert(1)")               # None: only http and https are shown
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from bot.slack.ids import GROUP_ID, USER_ID

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,251}[a-z0-9])?\Z", re.ASCII)
_IPV6 = re.compile(r"[0-9a-f:.]+\Z", re.ASCII)
_LINK_SCHEMES = frozenset({"http", "https"})
MAX_LINK_CHARS = 2000
# Characters that would end or split a Slack link, percent-encoded in the target.
_LINK_TARGET_ESCAPES = str.maketrans({"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20"})


def escape(text: str) -> str:
    """`text` shown literally in mrkdwn: `&`, `<` and `>` become entities."""
    return text.translate(_ESCAPES)


def code(text: str, limit: int | None = None) -> str:
    """`text` inside an inline code span; a backtick in it cannot close the span early."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "`" + escape(text).replace("`", "'") + "`"


def mention(user_id: str) -> str:
    """A mention of a Slack user, or the id shown as plain text if it is not shaped like one."""
    return f"<@{user_id}>" if USER_ID.match(user_id) else escape(user_id)


def group_mention(group_id: str) -> str:
    """A user-group mention for a group id from the catalog (shape-checked like `mention`)."""
    return f"<!subteam^{group_id}>" if GROUP_ID.match(group_id) else escape(group_id)


def link(url: str) -> str | None:
    """An http(s) URL as a Slack link labelled with its host; None for anything else.

    The label is never text from the sender, so a link cannot pretend to go somewhere else.
    User info (``user:password@``) is dropped: it is a credential, not something to show.
    """
    target = _safe_target(url)
    if target is None:
        return None
    address, host = target
    return f"<{address}|{host}>"


def _safe_target(url: str) -> tuple[str, str] | None:
    if len(url) > MAX_LINK_CHARS or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in _LINK_SCHEMES or not _valid_host(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    address = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    return escape(address.translate(_LINK_TARGET_ESCAPES)), host


def _valid_host(host: str) -> bool:
    return bool(_HOST_NAME.match(host) or (":" in host and _IPV6.match(host)))
