"""A channel's digest as outbox items (Block Kit) or as plain text for the terminal.

Up to `INLINE_SERVICES` services fit in the channel message itself; with more, the message
holds one summary line per service and each service's details go in a thread reply. Charts are
always uploaded into the thread.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block

from bot.digest.figures import Missing, ServiceFigures
from bot.digest.lines import MARKS, detail_lines, flags, level_of
from bot.digest.period import DigestPeriod
from bot.outbox.ops import Post, Upload
from bot.slack.render.blocks import (
    MAX_SECTION_TEXT,
    Message,
    context,
    message,
    section,
    to_payload,
)
from bot.slack.render.text import escape

INLINE_SERVICES = 3
SUMMARY_FLAGS = 3


@dataclass(frozen=True)
class ChannelDigest:
    period: DigestPeriod
    services: tuple[ServiceFigures, ...]
    charts: Mapping[str, bytes] = field(default_factory=dict)  # service name -> PNG

    @property
    def threaded(self) -> bool:
        return len(self.services) > INLINE_SERVICES


def header(period: DigestPeriod) -> str:
    start, end = period.start, period.end
    days = f"{start:%a %d %b} – {end:%a %d %b %Y %H:%M} {end:%Z}".strip()
    return f"*Weekly service health · {period.week}* ({days})"


def summary_line(figures: ServiceFigures) -> str:
    level = level_of(figures)
    if level == "none" and isinstance(figures.throughput, Missing):
        return f"{MARKS[level]} *{escape(figures.service)}*: {escape(figures.throughput.reason)}"
    notes = [text for _, text in flags(figures)[:SUMMARY_FLAGS]]
    gaps = sum(1 for value in vars(figures).values() if isinstance(value, Missing))
    if gaps:
        notes.append(f"{gaps} section{'s' if gaps > 1 else ''} without data")
    summary = "; ".join(notes) or "within its targets"
    return f"{MARKS[level]} *{escape(figures.service)}*: {summary}"


def chunked(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join lines into texts of at most `limit` characters, breaking only between lines."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def service_blocks(figures: ServiceFigures) -> list[Block]:
    title = f"{MARKS[level_of(figures)]} *{escape(figures.service)}*"
    return [section(text) for text in chunked([title, *detail_lines(figures)])]


def channel_blocks(digest: ChannelDigest) -> list[Block]:
    blocks: list[Block] = [section(header(digest.period))]
    blocks += [section(text) for text in chunked(map(summary_line, digest.services))]
    if not digest.threaded:
        for figures in digest.services:
            blocks += service_blocks(figures)
    where = "Details and charts" if digest.threaded else "Charts"
    blocks.append(context(f"{where} for each service are in the thread."))
    return blocks


def fallback_text(digest: ChannelDigest) -> str:
    counts = dict.fromkeys(MARKS.values(), 0)
    for figures in digest.services:
        counts[MARKS[level_of(figures)]] += 1
    tally = " ".join(f"{mark} {n}" for mark, n in counts.items() if n)
    return f"Weekly service health {digest.period.week}: {tally}"


def preview_message(digest: ChannelDigest) -> Message:
    """The whole digest in one message, for the person who asked to preview it."""
    blocks: list[Block] = [section(header(digest.period))]
    blocks += [section(summary_line(figures)) for figures in digest.services]
    for figures in digest.services:
        blocks += service_blocks(figures)
    return message(fallback_text(digest), blocks)


def digest_ops(digest: ChannelDigest) -> list[Post | Upload]:
    """The channel message first, then per service its reply (if threaded) and its chart."""
    period = digest.period
    ops: list[Post | Upload] = [
        Post(
            op_id=period.key,
            channel=period.channel,
            text=fallback_text(digest),
            blocks=to_payload(channel_blocks(digest)),
            label="the weekly digest",
        )
    ]
    for figures in digest.services:
        name = figures.service
        if digest.threaded:
            ops.append(
                Post(
                    op_id=period.service_key(name),
                    channel=period.channel,
                    text=escape(f"{name}: week {period.week}"),
                    blocks=to_payload(service_blocks(figures)),
                    thread=period.key,
                    label="a service's part of the digest",
                )
            )
        png = digest.charts.get(name)
        if png is not None:
            ops.append(
                Upload(
                    op_id=period.chart_key(name),
                    channel=period.channel,
                    thread=period.key,
                    label="a digest chart",
                    filename=f"{name}-{period.week}.png",
                    title=f"{name}: p99 latency and event-loop lag, {period.week}",
                    png_base64=base64.b64encode(png).decode("ascii"),
                )
            )
    return ops


_BOLD = re.compile(r"\*([^*\n]+)\*")


def plain(mrkdwn: str) -> str:
    return html.unescape(_BOLD.sub(r"\1", mrkdwn).replace("`", ""))


def digest_text(digest: ChannelDigest) -> str:
    """The whole digest for a terminal: header, summary, then every service in full."""
    lines = [plain(header(digest.period)), f"channel {digest.period.channel}", ""]
    lines += [plain(summary_line(f)) for f in digest.services]
    for figures in digest.services:
        lines += ["", plain(f"{MARKS[level_of(figures)]} *{escape(figures.service)}*")]
        lines += ["  " + plain(line) for line in detail_lines(figures)]
    return "\n".join(lines)
