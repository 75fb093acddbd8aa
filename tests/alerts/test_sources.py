"""What each sender's payload becomes: status, times, labels, links and identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.alerts.errors import AlertPayloadError
from bot.alerts.sources import SOURCES
from bot.alerts.timestamps import parse_epoch, parse_rfc3339
from tests.alerts.conftest import example


def test_alertmanager_notification() -> None:
    batch = SOURCES["alertmanager"](example("alertmanager"))
    firing, resolved = batch.alerts

    assert batch.receiver == "triage-bot"
    assert batch.truncated_alerts == 0
    assert firing.group_key == resolved.group_key
    assert firing.group_key.startswith("{}/{service=~")
    assert firing.fingerprint == "5f0c2a1e9b7d4c36"
    assert firing.starts_at == datetime(2024, 5, 1, 12, 0, 3, 418211, tzinfo=UTC)
    assert firing.ends_at is None
    assert firing.severity == "critical"
    assert firing.summary == "Event loop lag above 200ms on checkout"
    assert firing.links["generator"].startswith("http://prometheus.example.com:9090/graph")
    assert firing.links["runbook"] == "https://runbooks.example.com/nodejs/event-loop-lag"
    assert resolved.status == "resolved"
    assert resolved.ends_at == datetime(2024, 5, 1, 12, 1, 18, tzinfo=UTC)


def test_alertmanager_truncated_alerts_are_reported() -> None:
    payload = example("alertmanager")
    payload["truncatedAlerts"] = 12

    assert SOURCES["alertmanager"](payload).truncated_alerts == 12


def test_alertmanager_without_group_key_or_fingerprint_gets_derived_ones() -> None:
    payload = example("alertmanager")
    del payload["groupKey"]
    del payload["alerts"][0]["fingerprint"]
    other = example("alertmanager")
    del other["groupKey"]
    del other["alerts"][0]["fingerprint"]

    first = SOURCES["alertmanager"](payload).alerts[0]
    again = SOURCES["alertmanager"](other).alerts[0]

    assert first.group_key == again.group_key
    assert "NodeEventLoopLagHigh" in first.group_key
    assert first.fingerprint == again.fingerprint
    assert len(first.fingerprint) == 64


def test_alertmanager_firing_alert_ignores_a_guessed_end_time() -> None:
    payload = example("alertmanager")
    payload["alerts"][0]["endsAt"] = "2024-05-01T12:04:03Z"

    assert SOURCES["alertmanager"](payload).alerts[0].ends_at is None


@pytest.mark.parametrize(
    ("path", "value", "expected_field", "expected_problem"),
    [
        (("truncatedAlerts",), -1, "truncatedAlerts", "must not be negative"),
        (("alerts",), {}, "alerts", "must be a JSON array"),
        (("status",), "silenced", "status", "must be 'firing' or 'resolved'"),
    ],
)
def test_alertmanager_errors_name_field_and_problem(
    path: tuple[str | int, ...], value: object, expected_field: str, expected_problem: str
) -> None:
    payload = example("alertmanager")
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    with pytest.raises(AlertPayloadError) as caught:
        SOURCES["alertmanager"](payload)

    assert (caught.value.field_path, caught.value.problem) == (expected_field, expected_problem)


@pytest.mark.parametrize(
    ("path", "value", "expected_field", "expected_problem"),
    [
        (("labels",), {"severity": 3}, "alerts[0].labels.severity", "must be a string"),
        (("startsAt",), 1714564800, "alerts[0].startsAt", "not an RFC 3339 timestamp"),
        (("endsAt",), "2024-05-01T12:00:00", "alerts[0].endsAt", "not an RFC 3339 timestamp"),
    ],
)
def test_alertmanager_keeps_the_group_and_names_a_bad_alert(
    path: tuple[str, ...], value: object, expected_field: str, expected_problem: str
) -> None:
    payload = example("alertmanager")
    payload["alerts"][0][path[0]] = value

    batch = SOURCES["alertmanager"](payload)

    assert [a.fingerprint for a in batch.alerts] == [payload["alerts"][1]["fingerprint"]]
    (rejected,) = batch.rejected
    assert (rejected.index, rejected.field, rejected.problem) == (
        0,
        expected_field,
        expected_problem,
    )


def test_alertmanager_group_of_only_bad_alerts_is_refused() -> None:
    payload = example("alertmanager")
    for alert in payload["alerts"]:
        alert["startsAt"] = "soon"

    with pytest.raises(AlertPayloadError) as caught:
        SOURCES["alertmanager"](payload)

    assert caught.value.field_path == "alerts[0].startsAt"


def test_grafana_notification_keeps_values_and_links() -> None:
    alert = SOURCES["grafana"](example("grafana")).alerts[0]

    assert alert.source == "grafana"
    assert alert.values == {"A": 2.71, "B": 1.0}
    assert alert.links["dashboard"] == "https://grafana.example.com/d/nodejs-checkout?orgId=1"
    assert alert.links["panel"].endswith("viewPanel=4")
    assert alert.links["silence"].startswith("https://grafana.example.com/alerting/silence/")
    assert alert.links["generator"].startswith("https://grafana.example.com/alerting/grafana/")
    assert alert.starts_at == datetime(2024, 5, 1, 10, 4, 10, tzinfo=UTC)
    assert alert.summary == "Checkout is slow"
    assert alert.fingerprint == "3e7f19a2c05b6d48"


def test_grafana_without_values_or_urls() -> None:
    payload = example("grafana")
    for key in ("values", "dashboardURL", "panelURL", "silenceURL"):
        del payload["alerts"][0][key]

    alert = SOURCES["grafana"](payload).alerts[0]

    assert alert.values == {}
    assert set(alert.links) == {"generator", "runbook"}


def test_datadog_trigger() -> None:
    batch = SOURCES["datadog"](example("datadog"))
    (alert,) = batch.alerts

    assert batch.receiver == "Example Shop"
    assert alert.status == "firing"
    assert alert.alertname == "Checkout heap usage high"
    assert alert.group_key == "datadog:monitor:48213907"
    assert alert.severity == "critical"
    assert alert.labels["service"] == "checkout"
    assert alert.labels["env"] == "prod"
    assert alert.labels["team"] == "payments"
    assert alert.labels["monitor"] == ""
    assert alert.labels["priority"] == "P2"
    assert alert.starts_at == datetime(2024, 5, 1, 12, 4, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.summary == "Checkout heap usage high"
    assert alert.links["source"].startswith("https://app.datadoghq.com/event/")


def test_datadog_recovery_resolves_the_same_alert() -> None:
    payload = example("datadog")
    payload.update(
        transition="Recovered",
        title="[Recovered on {service:checkout,env:prod}] Checkout heap usage high",
        alert_type="success",
        scope="service:checkout, env:prod",
        date="1714566000000",
    )
    fired = SOURCES["datadog"](example("datadog")).alerts[0]
    recovered = SOURCES["datadog"](payload).alerts[0]

    assert recovered.status == "resolved"
    assert recovered.ends_at == datetime(2024, 5, 1, 12, 20, tzinfo=UTC)
    assert recovered.alertname == fired.alertname
    assert recovered.fingerprint == fired.fingerprint
    assert recovered.group_key == fired.group_key


@pytest.mark.parametrize("transition", ["Re-Triggered", "Warn", "No Data", "Renotify"])
def test_datadog_other_transitions_are_firing(transition: str) -> None:
    payload = example("datadog")
    payload["transition"] = transition

    assert SOURCES["datadog"](payload).alerts[0].status == "firing"


def test_datadog_scopes_of_one_monitor_are_different_alerts() -> None:
    other_scope = example("datadog")
    other_scope["scope"] = "env:staging,service:checkout"

    first = SOURCES["datadog"](example("datadog")).alerts[0]
    second = SOURCES["datadog"](other_scope).alerts[0]

    assert first.group_key == second.group_key
    assert first.fingerprint != second.fingerprint


def test_datadog_unfilled_variable_is_refused() -> None:
    payload = example("datadog")
    payload["monitor_id"] = ""

    with pytest.raises(AlertPayloadError) as caught:
        SOURCES["datadog"](payload)

    assert caught.value.field_path == "monitor_id"
    assert caught.value.problem == "must not be empty"


def test_newrelic_activated_issue() -> None:
    (alert,) = SOURCES["newrelic"](example("newrelic")).alerts

    assert alert.status == "firing"
    assert alert.alertname == "Checkout error rate"
    assert alert.fingerprint == "b6d3a0f2-5e41-4c8a-9f27-1e0c8d4b7a93"
    assert alert.group_key == "newrelic:issue:b6d3a0f2-5e41-4c8a-9f27-1e0c8d4b7a93"
    assert alert.severity == "critical"
    assert alert.labels["service"] == "checkout"
    assert alert.labels["policy"] == "Node.js services"
    assert alert.starts_at == datetime(2024, 5, 1, 12, 6, tzinfo=UTC)
    assert alert.summary.startswith("Error rate > 5%")
    assert alert.links["runbook"] == "https://runbooks.example.com/nodejs/errors"
    assert alert.links["source"].startswith("https://radar-api.service.newrelic.com/")


def test_newrelic_closed_issue_resolves_with_its_close_time() -> None:
    payload = example("newrelic")
    payload.update(state="CLOSED", closedAt=1714566300000, priority="MEDIUM")

    alert = SOURCES["newrelic"](payload).alerts[0]

    assert alert.status == "resolved"
    assert alert.ends_at == datetime(2024, 5, 1, 12, 25, tzinfo=UTC)
    assert alert.severity == "warning"


def test_newrelic_issue_with_empty_lists_uses_its_title() -> None:
    payload = example("newrelic")
    payload.update(conditionNames=[], services=[], runbookUrls=[], activatedAt=None)

    alert = SOURCES["newrelic"](payload).alerts[0]

    assert alert.alertname == payload["title"]
    assert "service" not in alert.labels
    assert "runbook" not in alert.links
    assert alert.starts_at == datetime(2024, 5, 1, 12, 5, tzinfo=UTC)


def test_generic_alerts() -> None:
    batch = SOURCES["generic"](example("generic"))
    latency, backlog = batch.alerts

    assert batch.receiver == "nightly-checks"
    assert latency.labels == {
        "env": "prod",
        "alertname": "CheckoutLatencyHigh",
        "service": "checkout",
        "severity": "critical",
    }
    assert latency.group_key == "generic:checkout"
    assert latency.summary == "p99 latency above 2s for 10 minutes"
    assert latency.links == {"source": "https://grafana.example.com/d/checkout"}
    assert backlog.status == "resolved"
    assert backlog.fingerprint == "reports-queue-backlog"
    assert backlog.severity == "warning"
    assert backlog.ends_at == datetime(2024, 5, 1, 8, 45, tzinfo=UTC)


def test_generic_needs_at_least_one_alert() -> None:
    with pytest.raises(AlertPayloadError) as caught:
        SOURCES["generic"]({"alerts": []})

    assert caught.value.field_path == "alerts"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01t12:00:00z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123456789Z", datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        (
            "2024-05-01T14:00:00+02:00",
            datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_rfc3339_accepted(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "text", ["2024-05-01", "2024-05-01T12:00:00", "20240501T120000Z", "2024-13-01T00:00:00Z", 17]
)
def test_rfc3339_refused(text: object) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        parse_rfc3339(text)


@pytest.mark.parametrize("value", [1714564800, "1714564800", 1714564800000, "1714564800000.0"])
def test_epoch_seconds_or_milliseconds(value: object) -> None:
    assert parse_epoch(value) == datetime(2024, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("value", ["soon", "", -5, 0, True, None, "1e400"])
def test_epoch_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a Unix timestamp"):
        parse_epoch(value)
