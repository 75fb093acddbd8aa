"""Diagnosis rules for what the database evidence (and the pool's own metrics) can name:
connection leaks, lock contention, missing indexes and N+1 queries.

They run after the process-level rules (a blocked loop or a busy core inflates every
timing, the database's included) and before pool saturation and slow queries, which they
explain: leaked or lock-waiting sessions keep pool connections, full-table scans and per-item
round trips make statements slow. Each rule's docstring says why it outranks the next.
"""

from __future__ import annotations

from bot.triage.facts import Facts
from bot.triage.verdict import Rule, Verdict

_POOL_TROUBLE = ("db_pool_waiting", "db_pool_usage", "db_pool_held_idle")


def _pool_suffers(facts: Facts) -> bool:
    return any(facts.flagged(code) for code in _POOL_TROUBLE)


def connection_leak(facts: Facts) -> Verdict | None:
    """Sessions left idle inside a transaction come first: each holds a pool connection and
    every lock it took, so pool queues and lock waits beside it are its consequences."""
    if not facts.flagged("db_idle_in_transaction"):
        return None
    summary = f"Connections are leaking: {facts.summary('db_idle_in_transaction')}."
    if _pool_suffers(facts):
        summary += " They fill the pool, so requests queue or time out waiting for a connection."
    if facts.flagged("db_lock_waits"):
        summary += f" Other sessions wait on their locks: {facts.summary('db_lock_waits')}."
    confidence = 0.9 if _pool_suffers(facts) else 0.8
    return Verdict("connection_leak", confidence, summary, ("db_idle_in_transaction",))


def lock_contention(facts: Facts) -> Verdict | None:
    """Sessions waiting on a lock outrank scans, round trips and pool saturation: a waiting
    session keeps its pool connection and its request's latency grows with the wait."""
    if not facts.flagged("db_lock_waits"):
        return None
    summary = f"Requests wait on a database lock: {facts.summary('db_lock_waits')}."
    if _pool_suffers(facts):
        summary += " The waiting sessions keep their pool connections, so the pool fills too."
    confidence = 0.9 if facts.critical("db_lock_waits") else 0.85
    return Verdict("lock_contention", confidence, summary, ("db_lock_waits",))


def missing_index(facts: Facts) -> Verdict | None:
    """A top statement reading a large table in full outranks N+1 and pool saturation: the
    scan makes the statement slow and a slow statement holds its connection longer. It is
    `slow_queries` with the statement, the table and the index named."""
    if not facts.flagged("db_missing_index"):
        return None
    summary = (
        f"A query reads a whole table for lack of an index: {facts.summary('db_missing_index')}."
    )
    supporting: tuple[str, ...] = ("db_missing_index",)
    if facts.flagged("db_op_latency"):
        summary += f" It is why {facts.summary('db_op_latency')}."
        supporting += ("db_op_latency",)
    strong = facts.critical("db_missing_index") or facts.flagged("db_op_latency")
    return Verdict("missing_index", 0.9 if strong else 0.8, summary, supporting)


def n_plus_one_queries(facts: Facts) -> Verdict | None:
    """Many cheap round trips per request outrank pool saturation and slow queries: the
    request holds a connection through all of them, and their latencies add up."""
    repeated = facts.flagged("db_repeated_statement")
    ratio = facts.flagged("db_calls_per_request")
    if not (repeated or ratio):
        return None
    if repeated:
        summary = f"A query runs once per item: {facts.summary('db_repeated_statement')}."
        supporting: tuple[str, ...] = ("db_repeated_statement",)
        if ratio:
            summary += f" In all, {facts.summary('db_calls_per_request')}."
            supporting += ("db_calls_per_request",)
        return Verdict("n_plus_one_queries", 0.9 if ratio else 0.8, summary, supporting)
    summary = f"Requests make many database round trips: {facts.summary('db_calls_per_request')}."
    return Verdict("n_plus_one_queries", 0.7, summary, ("db_calls_per_request",))


def leak_from_pool_metrics(facts: Facts) -> Verdict | None:
    """Without database evidence, a pool pinned at its size while its connections run next
    to nothing, under flat traffic, is a leak rather than saturation by load. It comes after
    the evidence rules: a lock wait also pins the pool, and the evidence would show it."""
    if not facts.flagged("db_pool_held_idle"):
        return None
    summary = f"Pool connections are held but not used: {facts.summary('db_pool_held_idle')}."
    summary += " Connect the bot to the database to name the sessions holding them."
    return Verdict("connection_leak", 0.65, summary, ("db_pool_held_idle",))


DATABASE_EVIDENCE_RULES: tuple[Rule, ...] = (
    connection_leak,
    lock_contention,
    missing_index,
    n_plus_one_queries,
    leak_from_pool_metrics,
)
