"""A channel's conversation as plain text, the way a person would read it in Slack."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime

from emulator.plain_text import blocks_to_text
from emulator.records import Message
from emulator.state import EmulatorState


def channel_transcript(state: EmulatorState, channel_id: str) -> str:
    lines: list[str] = []
    for root in state.channel_messages(channel_id):
        lines += _message_lines(state, root, indent="")
        for reply in state.thread_replies(channel_id, root.ts):
            lines += _message_lines(state, reply, indent="    │ ")
        lines.append("")
    return "\n".join(lines)


def _message_lines(state: EmulatorState, message: Message, indent: str) -> list[str]:
    stamp = datetime.fromtimestamp(float(message.ts), UTC).strftime("%H:%M:%S")
    edited = f" (edited {len(message.edits)}×)" if message.edits else ""
    body = blocks_to_text(message.blocks) if message.blocks else message.text
    files = [f"[chart: {f.get('title') or f.get('name')}]" for f in message.files]
    text = _readable("\n".join([body, *files]).strip())
    lines = [f"{indent}{stamp} {_author(state, message)}{edited}"]
    for line in text.splitlines():
        lines += [indent + "  " + part for part in textwrap.wrap(line, 100) or [""]]
    return lines


EMOJI = {
    ":red_circle:": "🔴",
    ":large_orange_circle:": "🟠",
    ":large_green_circle:": "🟢",
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":grey_question:": "❔",
    ":hourglass_flowing_sand:": "⏳",
    ":x:": "❌",
}


LINK = re.compile(r"<(?:[^|<>]+)\|([^<>]+)>")  # <url|label>, <!date^...|fallback>
BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def _readable(text: str) -> str:
    """Slack mrkdwn as the Slack client shows it: labels for links, emoji, no bold markers."""
    for code, symbol in EMOJI.items():
        text = text.replace(code, symbol)
    return BOLD.sub(r"\1", LINK.sub(r"\1", text))


def _author(state: EmulatorState, message: Message) -> str:
    user = state.users.get(message.user)
    return user.name if user else message.user
