"""Incidents: alerts grouped per service and alert name, with a lifecycle and a Slack thread."""
