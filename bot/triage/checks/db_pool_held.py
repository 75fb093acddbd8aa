"""Connections held without being used: a leak's signature in pool metrics alone.

A pool saturated by load is full of connections running statements; a leaking pool is full
of connections doing nothing (checked out and never returned), while traffic stays flat.
"""

from __future__ import annotations

from pydantic import Field

from bot.models import Finding
from bot.sources.signals import Signal
from bot.triage import series as stats
from bot.triage.checks.base import CheckContext, CheckKind, CheckParams, CheckSkipped, finding
from bot.triage.checks.units import rounded

ADVICE = (
    "Every pooled connection is checked out, yet almost no statement runs on them: they are "
    "held, not used. Look for clients taken with pool.connect() and not released on an error "
    "path (release in `finally`), or transactions kept open across slow awaits. The "
    "database's pg_stat_activity shows them as `idle in transaction`."
)


class DbPoolHeldParams(CheckParams):
    pinned_share: float = Field(default=0.8, gt=0, le=1)
    max_calls_per_connection: float = Field(default=0.2, ge=0)
    flat_factor: float = Field(default=1.5, ge=1)


class DbPoolHeld(CheckKind[DbPoolHeldParams]):
    kind = "db_pool_held"
    params_model = DbPoolHeldParams

    def signals(self, params: DbPoolHeldParams) -> set[Signal]:
        return {Signal.DB_POOL_USED, Signal.DB_POOL_MAX, Signal.DB_OP_RATE, Signal.REQUEST_RATE}

    def evaluate(self, params: DbPoolHeldParams, ctx: CheckContext) -> list[Finding]:
        used = ctx.points(Signal.DB_POOL_USED)
        sizes = stats.values(ctx.optional_points(Signal.DB_POOL_MAX))
        size = max(sizes) if sizes else ctx.targets.pool_size
        if not size:
            raise CheckSkipped("the pool size is neither exported nor in the catalog")
        calls = dict(ctx.total(Signal.DB_OP_RATE))
        inbound = stats.values(ctx.optional_total(Signal.REQUEST_RATE))
        recent = used[-max(4, len(used) // 4) :]
        pinned = [(t, u) for t, u in recent if u >= size - 0.5]
        pinned_share = len(pinned) / len(recent) if recent else 0.0
        per_connection = stats.quantile([calls[t] / u for t, u in pinned if t in calls], 0.5)
        third = max(1, len(inbound) // 3)
        before = stats.quantile(inbound[:third], 0.5) or 0.0
        lately = stats.quantile(inbound[-third:], 0.5) or 0.0
        flat = before > 0 and lately > 0 and lately <= params.flat_factor * before
        held = (
            pinned_share >= params.pinned_share
            and per_connection is not None
            and per_connection <= params.max_calls_per_connection
            and flat
        )
        summary = (
            f"all {size:.0f} pool connections checked out while they ran "
            f"{per_connection or 0:.2f} database calls/s each, traffic flat: held, not used"
            if held
            else f"pool at its size {pinned_share:.0%} of the recent window"
        )
        return [
            finding(
                "db_pool_held_idle" if held else "db_pool_held",
                "warn" if held else "info",
                summary,
                ADVICE,
                query=ctx.query(Signal.DB_POOL_USED, Signal.DB_OP_RATE),
                observed={
                    "pinned_share": rounded(pinned_share, 2),
                    "calls_per_connection": rounded(per_connection, 3),
                    "size": size,
                    "requests_before": rounded(before, 2),
                    "requests_lately": rounded(lately, 2),
                },
                threshold={"max_calls_per_connection": params.max_calls_per_connection},
            )
        ]
