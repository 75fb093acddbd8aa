"""Finds control sequences in what the bot sends to Slack that untrusted text could have made.

Slack acts on `<…>` sequences in `mrkdwn` texts and in a message's `text`: `<!channel>`,
`<!here>`, `<!everyone>`, `<@U…>`, `<#C…>`, `<!subteam^…>` and `<url|label>`. The bot itself
writes only these: a mention of a Slack-provided user id or of a catalog user group, a date,
and a link to an http(s) URL labelled with its own host. `unsafe_sequences` returns every
other one, and any mention of a user outside `users` when the caller knows who took part.

    assert unsafe_sequences(message_json, users={"U0ALICE"}) == []
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any
from urllib.parse import urlsplit

_SEQUENCE = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"@([UW][A-Z0-9]{2,30})\Z")
_GROUP_MENTION = re.compile(r"!subteam\^(S[A-Z0-9]{2,30})\Z")
_DATE = re.compile(r"!date\^\d+\^[^|]*\|[^|]*\Z")
_LINK = re.compile(r"(https?://[^|\s]+)\|([^|]+)\Z")


def mrkdwn_texts(payload: Any) -> Iterator[str]:
    """Every text Slack parses for control sequences: a string given itself, and at any depth
    the `text` of messages and of mrkdwn text objects. plain_text is shown as it is: skipped."""
    if isinstance(payload, str):
        yield payload
    else:
        yield from _nested_texts(payload)


def _nested_texts(payload: Any) -> Iterator[str]:
    if isinstance(payload, dict):
        text = payload.get("text")
        if isinstance(text, str) and payload.get("type") != "plain_text":
            yield text
        for value in payload.values():
            yield from _nested_texts(value)
    elif isinstance(payload, list | tuple):
        for item in payload:
            yield from _nested_texts(item)


def unsafe_sequences(
    payload: Any, users: Collection[str] | None = None, groups: Collection[str] = ()
) -> list[str]:
    """Sequences the bot does not write itself; `users` None accepts any well-formed user id
    (ids that Slack sent), `groups` are the catalog's user groups."""
    return [
        match.group(0)
        for text in mrkdwn_texts(payload)
        for match in _SEQUENCE.finditer(text)
        if not _is_the_bots_own(match.group(1), users, groups)
    ]


def _is_the_bots_own(inner: str, users: Collection[str] | None, groups: Collection[str]) -> bool:
    mention = _USER_MENTION.match(inner)
    if mention:
        return users is None or mention.group(1) in users
    group = _GROUP_MENTION.match(inner)
    if group:
        return group.group(1) in groups
    if _DATE.match(inner):
        return True
    link = _LINK.match(inner)
    return link is not None and _labelled_with_host(link.group(1), link.group(2))


def _labelled_with_host(target: str, label: str) -> bool:
    try:
        host = urlsplit(target.replace("&amp;", "&")).hostname or ""
    except ValueError:
        return False
    shown = f"[{host}]" if ":" in host else host
    return bool(host) and label == shown
