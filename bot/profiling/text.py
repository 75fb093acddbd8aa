"""A profile's findings as lines of text, in a style the caller gives: plain for the terminal
(`profile_lines`), escaped for Slack by the render stage (bot/slack/render/profile.py).
Function names and script paths come from the profiled process: the style shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.profiling.evidence import Culprit, ProfiledFunction, ProfileEvidence

NAME_CHARS = 80
LOCATION_CHARS = 160
MIB = 1024 * 1024


def _plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def measure(culprit: Culprit) -> str:
    if culprit.share is not None:
        return f"{culprit.share:.0%} of samples"
    return f"+{(culprit.bytes or 0) / MIB:.1f} MiB live"


def headline(evidence: ProfileEvidence) -> str:
    what = "CPU profile" if evidence.kind == "cpu" else "Heap profile (two readings)"
    if not evidence.captured:
        return f"{what}: not captured: {evidence.reason}"
    return f"{what} of {evidence.instance}, {evidence.seconds:g} s"


@dataclass(frozen=True)
class Style:
    name: Callable[[str, int], str]  # a function name or a script path, cut to a length
    text: Callable[[str], str]  # a sentence that may quote untrusted text


def styled_lines(evidence: ProfileEvidence, style: Style) -> list[str]:
    show = style.name
    lines = [style.text(headline(evidence))]
    if not evidence.captured:
        return lines
    if evidence.culprits:
        lines.append("Culprits:")
    for culprit in evidence.culprits:
        name, where = show(culprit.name, NAME_CHARS), show(culprit.location, LOCATION_CHARS)
        lines.append(f"  {name} at {where}: {measure(culprit)}")
    if not evidence.culprits:
        lines.append(
            "  no function of the application stood out"
            if evidence.kind == "cpu"
            else "  no allocation site grew between the two readings"
        )
    lines += _functions(evidence.top_self, show)
    if evidence.gc_share:
        lines.append(f"Garbage collection: {evidence.gc_share:.0%} of samples")
    return lines


def _functions(rows: tuple[ProfiledFunction, ...], show: Callable[[str, int], str]) -> list[str]:
    if not rows:
        return []
    lines = ["Most self time:"]
    for row in rows[:5]:
        lines.append(
            f"  {row.self_share:.0%} {show(row.name, NAME_CHARS)} "
            f"{show(row.location, LOCATION_CHARS)}"
            f" (with callees {row.total_share:.0%})"
        )
    return lines


def profile_lines(evidence: ProfileEvidence) -> list[str]:
    """For the terminal report."""
    return styled_lines(evidence, Style(name=_plain, text=lambda text: text))
