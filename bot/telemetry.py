"""The bot's own Prometheus metrics, served on GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "bot_http_requests_total",
    "HTTP requests served by the bot, by route and status.",
    ["route", "status"],
    registry=REGISTRY,
)
SLACK_API_CALLS = Counter(
    "bot_slack_api_calls_total",
    "Slack Web API calls made by the bot, by method and outcome.",
    ["method", "outcome"],
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
