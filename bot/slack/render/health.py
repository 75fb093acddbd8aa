"""Block Kit for `/health` and `/slo`: one compact message, one marked line per signal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import STATUS_RANK, Status
from bot.slack.render.blocks import context, section, to_payload
from bot.slack.render.text import escape
from bot.slack.render.triage import STEP_MARK

INFO_MARK = ":small_blue_diamond:"


@dataclass(frozen=True)
class Line:
    """One signal: `status` None means shown without a judgement (no target to hold it to).

    `label` and `text` are plain words; they are escaped when rendered."""

    label: str
    text: str
    status: Status | None = None

    def render(self) -> str:
        mark = INFO_MARK if self.status is None else STEP_MARK[self.status]
        return f"{mark} *{escape(self.label)}* {escape(self.text)}"


def overall(lines: Sequence[Line]) -> Status:
    return worst(line.status for line in lines if line.status is not None)


def worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=lambda status: STATUS_RANK[status], default="unknown")


def signal_message(
    title: str, lines: Sequence[Line], footer: str
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks: a title with the worst mark, the lines, a footer."""
    status = overall(lines)
    heading = f"{STEP_MARK[status]} *{escape(title)}*"
    body = "\n".join([heading, *(line.render() for line in lines)])
    fallback = escape(f"{title}: {status}")
    return fallback, to_payload([section(body), context(escape(footer))])


def ms(seconds: float) -> str:
    millis = seconds * 1000
    return f"{millis:.0f} ms" if millis >= 10 else f"{millis:.1f} ms"


def percent(ratio: float, digits: int = 2) -> str:
    return f"{ratio * 100:.{digits}f}%"


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):.0f} MiB"
