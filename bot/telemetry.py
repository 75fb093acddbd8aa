"""The bot's own Prometheus metrics, served on GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "bot_http_requests_total",
    "HTTP requests served by the bot, by route and status.",
    ["route", "status"],
    registry=REGISTRY,
)
HTTP_CONNECTIONS_REFUSED = Counter(
    "bot_http_connections_refused_total",
    "Connections answered 503 and closed because BOT_HTTP_MAX_CONNECTIONS were already open.",
    registry=REGISTRY,
)
SLACK_API_CALLS = Counter(
    "bot_slack_api_calls_total",
    "Slack Web API calls made by the bot, by method and outcome.",
    ["method", "outcome"],
    registry=REGISTRY,
)
ALERT_WEBHOOKS = Counter(
    "bot_alert_webhooks_total",
    "Alert webhook deliveries answered, by source (unknown: a path no source serves) and status.",
    ["source", "status"],
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "bot_store_errors_total",
    "State store operations that failed, by operation.",
    ["operation"],
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Histogram(
    "bot_event_loop_lag_seconds",
    "How late the bot's own asyncio loop ran a timer that should have fired on time.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)

# Shared by every replica: the outbox figures are read from the store, so any replica's scrape
# shows the whole queue (aggregate with max()).
OUTBOX_PENDING = Gauge(
    "bot_outbox_pending_entries",
    "Slack writes queued and not yet delivered, over every channel lane.",
    registry=REGISTRY,
)
OUTBOX_OLDEST_AGE = Gauge(
    "bot_outbox_oldest_entry_age_seconds",
    "Age of the oldest Slack write still queued (0 when the queue is empty).",
    registry=REGISTRY,
)
OUTBOX_DEAD_LETTERS = Gauge(
    "bot_outbox_dead_letters",
    "Slack writes that could not be delivered and wait in the dead-letter list.",
    registry=REGISTRY,
)
OUTBOX_DEAD_LETTERED = Counter(
    "bot_outbox_dead_lettered_total",
    "Slack writes moved to the dead-letter list by this process, by reason.",
    ["reason"],
    registry=REGISTRY,
)
OUTBOX_WORKER_UP = Gauge(
    "bot_outbox_worker_up",
    "1 while this process's outbox worker task runs, 0 while it is down or restarting.",
    registry=REGISTRY,
)
READY = Gauge(
    "bot_ready",
    "1 when this process would answer /readyz with 200, else 0.",
    registry=REGISTRY,
)
ALERTS_REJECTED = Counter(
    "bot_alerts_rejected_total",
    "Alerts refused from a webhook delivery (the rest of the delivery was kept), by reason.",
    ["source", "reason"],
    registry=REGISTRY,
)
INCIDENTS_OPENED = Counter(
    "bot_incidents_opened_total",
    "Incidents opened (reopenings excluded), by alert source.",
    ["source"],
    registry=REGISTRY,
)
TRIAGE_DURATION = Histogram(
    "bot_triage_duration_seconds",
    "Wall time of one triage run, by what started it (incident, command, button).",
    ["trigger"],
    buckets=(0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
    registry=REGISTRY,
)
