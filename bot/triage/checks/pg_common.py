"""What the checks reading PostgreSQL evidence share: the evidence itself, and how to quote."""

from __future__ import annotations

from bot.sources.postgres.model import DatabaseEvidence, StatementStat
from bot.sources.signals import Signal
from bot.triage.checks.base import CheckContext, CheckKind, CheckSkipped, ParamsT
from bot.triage.checks.units import ms

STATEMENT_CHARS = 120


class DatabaseCheck(CheckKind[ParamsT]):
    """A check that reads the triage's database evidence (and, unless it says so, no signal)."""

    def signals(self, params: ParamsT) -> set[Signal]:
        return set()

    def uses_database(self, params: ParamsT) -> bool:
        return True


def evidence_of(ctx: CheckContext) -> DatabaseEvidence:
    """The triage's database evidence; `CheckSkipped` when there is none to judge.

    Why there is none (not configured, unreachable, a missing grant) is reported once, by
    the `pg_statements` check, not by every check that reads the evidence.
    """
    if ctx.database is None:
        raise CheckSkipped("no database connection in the catalog")
    if ctx.database.problem is not None:
        raise CheckSkipped("the database evidence could not be read")
    return ctx.database


def quoted(text: str, limit: int = STATEMENT_CHARS) -> str:
    """A statement (already in its shown form) as inline code, cut to `limit`."""
    cut = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return "`" + cut.replace("`", "'") + "`"


def fine_ms(milliseconds: float) -> str:
    """Statement times, which are often well under a millisecond."""
    if milliseconds < 1:
        return f"{milliseconds:.2f} ms"
    return ms(milliseconds / 1000)


def describe(statement: StatementStat, evidence: DatabaseEvidence) -> str:
    """Share of database time, mean time and rate of one statement."""
    rate = statement.calls / evidence.span_s if evidence.span_s else 0.0
    share = evidence.share(statement)
    return f"{share:.0%} of database time, mean {fine_ms(statement.mean_ms)}, {rate:.1f} calls/s"
