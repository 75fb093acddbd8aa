"""PostgreSQL evidence for the database step: which statement, on which table, and why.

    evidence = ServiceEvidence(service.database, dsns.get(service.database.dsn_env))
    found = await evidence.collect(window_s=600)
    found.statements, found.scans, found.lock_waits, found.idle_in_transaction, found.problem

Read-only and bounded: see `session` for the connection rules, `collect` for the steps,
`problems` for how a failure becomes one line. Nothing here is Slack- or triage-specific.
"""

from bot.sources.postgres.collect import Sampling, ServiceEvidence
from bot.sources.postgres.config import DatabaseConfig
from bot.sources.postgres.model import (
    DatabaseEvidence,
    IdleTransaction,
    LockWait,
    ScanOnLargeTable,
    StatementStat,
)
from bot.sources.postgres.session import Limits

__all__ = [
    "DatabaseConfig",
    "DatabaseEvidence",
    "IdleTransaction",
    "Limits",
    "LockWait",
    "Sampling",
    "ScanOnLargeTable",
    "ServiceEvidence",
    "StatementStat",
]
