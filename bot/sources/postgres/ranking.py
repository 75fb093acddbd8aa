"""From counter changes and texts to the statements a report shows and the ones it plans.

picked = candidates(changes, per_ranking=9)              # ask texts for these
ranked = rank(picked, texts, shown_per_ranking=3)
ranked.shown, ranked.plannable, ranked.excluded
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.sources.postgres.model import StatementStat
from bot.sources.postgres.sqltext import is_plannable_select, shown
from bot.sources.postgres.statements import Change, candidates, is_application_statement

MISSING_TEXT = "(text no longer in pg_stat_statements)"


@dataclass(frozen=True)
class Ranked:
    shown: tuple[StatementStat, ...]
    plannable: list[tuple[str, str]]  # (queryid, normalised text), most total time first
    excluded: set[int]  # the bot's own statements and utility commands

    def total_ms(self, changes: Sequence[Change]) -> float:
        """The service's database time: every changed statement but the excluded ones."""
        return round(sum(c.total_ms for c in changes if c.queryid not in self.excluded), 3)


def rank(picked: Sequence[Change], texts: Mapping[int, str], shown_per_ranking: int) -> Ranked:
    """Drop what the service did not send, then keep the top of each ranking."""
    excluded = {
        c.queryid
        for c in picked
        if c.queryid in texts and not is_application_statement(texts[c.queryid])
    }
    kept = [c for c in picked if c.queryid not in excluded]
    heaviest_first = sorted(kept, key=lambda c: c.total_ms, reverse=True)
    return Ranked(
        shown=tuple(
            _stat(c, texts.get(c.queryid, "")) for c in candidates(kept, shown_per_ranking)
        ),
        plannable=[
            (str(c.queryid), texts[c.queryid])
            for c in heaviest_first
            if is_plannable_select(texts.get(c.queryid, "").strip().rstrip(";"))
        ],
        excluded=excluded,
    )


def _stat(change: Change, text: str) -> StatementStat:
    return StatementStat(
        queryid=str(change.queryid),
        text=shown(text) if text else MISSING_TEXT,
        calls=change.calls,
        total_ms=round(change.total_ms, 3),
        rows=change.rows,
        reads_only=is_plannable_select(text.strip().rstrip(";")),
    )
