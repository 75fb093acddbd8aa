"""Alert webhooks: parsing every sender's payload into one Alert model, and the HTTP routes."""

from bot.alerts.errors import AlertPayloadError
from bot.alerts.model import Alert, AlertBatch
from bot.alerts.sink import AcceptResult, AlertSink

__all__ = ["AcceptResult", "Alert", "AlertBatch", "AlertPayloadError", "AlertSink"]
