"""Which Slack errors no retry can fix, and how to name them."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.outbox.dead_letters import Refusal

# The channel or the thread is gone or closed to the bot: nothing posted there can land.
_PLACE_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "thread_not_found", "restricted_action"}
)
# The write itself is wrong; another write to the same place may still work.
_CONTENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "file_not_found",
    }
)
# The app cannot do this at all until someone fixes its installation.
_APP_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "ekm_access_denied",
    }
)
PERMANENT_ERRORS = _PLACE_ERRORS | _CONTENT_ERRORS | _APP_ERRORS


def refusal_for(error: SlackApiError) -> Refusal | None:
    """A refusal for Slack errors that are final, None for those a retry may fix."""
    code = str(error.response.get("error") or "")
    if code not in PERMANENT_ERRORS:
        return None
    if code == "missing_scope":
        needed = str(error.response.get("needed") or "a scope")
        return Refusal("slack_missing_scope", f"Slack says the app lacks {needed} (missing_scope)")
    return Refusal(f"slack_{code}", f"Slack answered {code}", tell_thread=code not in _PLACE_ERRORS)
