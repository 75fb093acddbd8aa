"""The app manifest asks for exactly the scopes of the Web API methods the bot calls."""

from __future__ import annotations

import re
from pathlib import Path

from emulator.manifest import manifest_scopes

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "config" / "slack-app-manifest.yaml"

# The bot token scope each method needs (None: no scope), as Slack's method pages list them.
SCOPE_OF_METHOD: dict[str, str | None] = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "files_upload_v2": "files:write",
    "usergroups_users_list": "usergroups:read",
    "views_publish": None,
}
HISTORY_METHODS = {"conversations_history", "conversations_replies"}
HISTORY_SCOPES = {"channels:history", "groups:history"}  # public and private channels
COMMANDS_SCOPE = "commands"
CALL = re.compile(r"\.((?:auth|chat|files|conversations|usergroups|views|reactions|users)_\w+)\(")


def called_methods() -> set[str]:
    return {
        name for path in (REPO / "bot").rglob("*.py") for name in CALL.findall(path.read_text())
    }


def test_every_called_method_has_a_known_scope() -> None:
    unknown = called_methods() - SCOPE_OF_METHOD.keys() - HISTORY_METHODS
    assert not unknown, f"add these methods' scopes to SCOPE_OF_METHOD: {sorted(unknown)}"


def test_the_manifest_asks_for_the_scopes_of_called_methods_and_no_others() -> None:
    methods = called_methods()
    needed = {SCOPE_OF_METHOD[m] for m in methods if m in SCOPE_OF_METHOD} - {None}
    if methods & HISTORY_METHODS:
        needed |= HISTORY_SCOPES
    assert manifest_scopes(MANIFEST) == {*needed, COMMANDS_SCOPE}
