"""Every Slack write goes through the outbox: queued in the store, delivered by one worker."""
