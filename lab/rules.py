"""Alerting rules for the lab, written once for both metric conventions.

prom-client and the OpenTelemetry Prometheus exporter name the same things differently
(`http_request_duration_seconds` with `status_code` against `http_server_request_duration`
with `http_response_status_code`, for example), so each rule selects either spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Metric name alternatives: prom-client first, then OpenTelemetry without and with unit suffix.
SERVER_BUCKETS = (
    "http_request_duration_seconds_bucket|http_server_request_duration_bucket"
    "|http_server_request_duration_seconds_bucket"
)
SERVER_COUNTS_OTEL = "http_server_request_duration_count|http_server_request_duration_seconds_count"
EVENTLOOP_P99 = (
    "nodejs_eventloop_lag_p99_seconds|nodejs_eventloop_delay_p99|nodejs_eventloop_delay_p99_seconds"
)
RESIDENT_MEMORY = "process_resident_memory_bytes|process_memory_usage|process_memory_usage_bytes"
POOL_PENDING = "db_client_connection_pending_requests"


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds and windows; the defaults suit a lab scraped every second."""

    latency_slo_s: float = 0.5
    eventloop_lag_s: float = 0.1
    memory_growth_bytes_per_s: float = 1024 * 1024
    pool_pending: float = 0
    error_ratio: float = 0.1
    rate_window: str = "30s"
    growth_window: str = "1m"
    lag_window: str = "10s"
    hold_for: str = "5s"
    growth_hold_for: str = "20s"


def _rate_by_job(selector: str, window: str) -> str:
    return f"sum by (job) (rate({selector}[{window}]))"


def _error_ratio(window: str) -> str:
    prom_errors = _rate_by_job('http_request_duration_seconds_count{status_code=~"5.."}', window)
    prom_all = _rate_by_job("http_request_duration_seconds_count", window)
    otel_errors = _rate_by_job(
        f'{{__name__=~"{SERVER_COUNTS_OTEL}",http_response_status_code=~"5.."}}', window
    )
    otel_all = _rate_by_job(f'{{__name__=~"{SERVER_COUNTS_OTEL}"}}', window)
    return f"(({prom_errors}) or ({otel_errors})) / (({prom_all}) or ({otel_all}))"


def _rule(name: str, expr: str, hold_for: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": hold_for,
        "labels": {"severity": "page", "service": "{{ $labels.job }}"},
        "annotations": {"summary": summary},
    }


def alert_rules(settings: RuleSettings | None = None) -> dict[str, Any]:
    """The rule file content as a mapping ready for YAML."""
    s = settings or RuleSettings()
    buckets = _rate_by_job(f'{{__name__=~"{SERVER_BUCKETS}"}}', s.rate_window).replace(
        "by (job)", "by (job, le)"
    )
    rules = [
        _rule(
            "LatencyP99OverSLO",
            f"histogram_quantile(0.99, {buckets}) > {s.latency_slo_s}",
            s.hold_for,
            "{{ $labels.job }} p99 latency is {{ $value | humanizeDuration }}",
        ),
        _rule(
            "EventLoopLagHigh",
            # Both libraries reset their lag histogram on every scrape, so look at a window.
            f'max by (job) (max_over_time({{__name__=~"{EVENTLOOP_P99}"}}[{s.lag_window}]))'
            f" > {s.eventloop_lag_s}",
            s.hold_for,
            "{{ $labels.job }} event-loop lag p99 is {{ $value | humanizeDuration }}",
        ),
        _rule(
            "MemoryGrowing",
            f'max by (job) (deriv({{__name__=~"{RESIDENT_MEMORY}"}}[{s.growth_window}]))'
            f" > {s.memory_growth_bytes_per_s}",
            s.growth_hold_for,
            "{{ $labels.job }} resident memory grows {{ $value | humanize1024 }}B/s",
        ),
        _rule(
            "DbPoolSaturated",
            f"max by (job) ({POOL_PENDING}) > {s.pool_pending}",
            s.hold_for,
            "{{ $labels.job }} has {{ $value }} queries waiting for a pool connection",
        ),
        _rule(
            "HighErrorRate",
            f"{_error_ratio(s.rate_window)} > {s.error_ratio}",
            s.hold_for,
            "{{ $labels.job }} answers {{ $value | humanizePercentage }} of requests with 5xx",
        ),
    ]
    return {"groups": [{"name": "lab-nodejs", "interval": "1s", "rules": rules}]}
