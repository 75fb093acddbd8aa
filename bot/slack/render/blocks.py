"""Block Kit helpers shared by every renderer: Slack's size limits enforced before sending.

Renderers hand the rest of the bot a `Message` (fallback text and blocks as JSON), so only the
render stage builds or serialises blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.slack.render.text import mention

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
ELLIPSIS = "…"


def clip_text(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def section(text: str) -> SectionBlock:
    """A section of mrkdwn that the caller built with `bot.slack.render.text` for outside text.

    `verbatim` stops Slack's automatic parsing (bare channel names and @-words stay text); the
    bot's own mentions and links are written out in full, so they still work."""
    return SectionBlock(text=_mrkdwn(text))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_mrkdwn(text)])


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip_text(text), verbatim=True)


def fit_blocks(blocks: Sequence[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """Keep a message within Slack's block limit, saying how much was left out."""
    if len(blocks) <= limit:
        return list(blocks)
    kept = list(blocks[: limit - 1])
    omitted = len(blocks) - len(kept)
    kept.append(context(f"{ELLIPSIS} {omitted} more blocks not shown (Slack allows {limit})."))
    return kept


def to_payload(blocks: Sequence[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in fit_blocks(blocks)]


@dataclass(frozen=True)
class Message:
    """What a Slack message shows: its fallback text and its blocks, ready for the outbox."""

    text: str
    blocks: list[dict[str, object]]


def message(text: str, blocks: Sequence[Block]) -> Message:
    return Message(text, to_payload(blocks))


def asked_by(user: str, seconds: float) -> ContextBlock:
    """The footer of a report someone asked for."""
    return context(f"Asked for by {mention(user)} · took {seconds:.1f} s")
