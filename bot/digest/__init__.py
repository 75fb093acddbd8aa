"""The weekly health digest: per channel, once per ISO week, each service's week in one place.

Wiring into the bot's lifecycle::

    composer = DigestComposer(catalog, prometheus_client)
    scheduler = DigestScheduler(catalog, store, composer)
    await scheduler.start()     # on start-up: schedules every channel, catches up if overdue
    await scheduler.stop()      # on clean-up

`python -m bot digest` (see `bot.digest.cli`) prints or posts a digest on demand.
"""

from bot.digest.compose import DigestComposer
from bot.digest.guard import DigestGuard, Outcome
from bot.digest.incidents import IncidentHistory
from bot.digest.period import DigestPeriod
from bot.digest.scheduler import DigestScheduler

__all__ = [
    "DigestComposer",
    "DigestGuard",
    "DigestPeriod",
    "DigestScheduler",
    "IncidentHistory",
    "Outcome",
]
