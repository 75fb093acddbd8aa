"""The one-line notes posted in an incident's thread, rendered from who did what."""

from __future__ import annotations

from bot.slack.render.text import code, escape, mention


def person_acted(who: str, verb: str) -> str:
    """`verb` is the bot's own word ("acknowledged", "resolved")."""
    return f"{mention(who)} {escape(verb)} this incident."


def person_noted(who: str, text: str) -> str:
    return f"Note from {mention(who)}: {escape(text)}"


def person_silenced(who: str, silence_id: str, hours: float) -> str:
    return f"{mention(who)} silenced matching alerts for {hours:g} h (silence {code(silence_id)})."


def alerts_cleared() -> str:
    return "Every alert of this incident has cleared; marked resolved."
