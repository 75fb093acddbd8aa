"""The weekly health digest: per channel, once per ISO week, each service's week in one place.

Wiring into the bot's lifecycle::

    from bot.digest.compose import DigestComposer
    from bot.digest.scheduler import DigestScheduler

    composer = DigestComposer(catalog, prometheus_client)
    scheduler = DigestScheduler(catalog, store, composer)
    await scheduler.start()     # on start-up: schedules every channel, catches up if overdue
    await scheduler.stop()      # on clean-up

`python -m bot digest` (see `bot.digest.cli`) prints or posts a digest on demand. The package
imports nothing itself, so the command line can describe `digest` without loading matplotlib.
"""
