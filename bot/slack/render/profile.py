"""A profile's findings in Slack: a thread note (or channel message) with every function name,
script path and instance shown inertly."""

from __future__ import annotations

from bot.profiling.evidence import ProfileEvidence
from bot.profiling.text import Style, styled_lines
from bot.slack.render.text import code, escape


def profile_note(evidence: ProfileEvidence) -> str:
    lines = styled_lines(evidence, Style(name=code, text=escape))
    return "\n".join([f"*{lines[0]}*", *lines[1:]])
