"""The normalised Alert: identity, dedupe keys and the field paths of payload errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bot.alerts.model import Alert, labels_fingerprint, make_alert
from bot.alerts.sources import SOURCES
from bot.validation import field_path
from tests.alerts.conftest import example

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "source": "alertmanager",
        "status": "firing",
        "group_key": '{}:{alertname="HighLatency"}',
        "labels": {"alertname": "HighLatency", "service": "checkout"},
        "starts_at": START,
        "fingerprint": "0f1e2d3c4b5a6978",
    }
    fields.update(changes)
    return make_alert(**fields)  # type: ignore[arg-type]


def test_labels_fingerprint_ignores_label_order_but_not_values() -> None:
    forward = labels_fingerprint({"alertname": "A", "service": "checkout"})
    backward = labels_fingerprint({"service": "checkout", "alertname": "A"})
    other = labels_fingerprint({"alertname": "A", "service": "cart"})

    assert forward == backward
    assert forward != other
    assert len(forward) == 64


def test_dedupe_key_is_the_same_for_the_same_instant_in_another_time_zone() -> None:
    paris = timezone(timedelta(hours=2))
    assert _alert().dedupe_key == _alert(starts_at=START.astimezone(paris)).dedupe_key


@pytest.mark.parametrize(
    "change",
    [
        {"status": "resolved"},
        {"starts_at": START + timedelta(minutes=5)},
        {"fingerprint": "ffffffffffffffff"},
        {"group_key": '{}:{alertname="Other"}'},
        {"source": "grafana"},
    ],
)
def test_dedupe_key_changes_with_each_part_of_the_notification(change: dict[str, object]) -> None:
    assert _alert(**change).dedupe_key != _alert().dedupe_key


def test_dedupe_key_equal_for_the_same_notification_from_both_members_of_an_ha_pair() -> None:
    from_first = example("alertmanager")
    from_second = example("alertmanager")
    from_second["externalURL"] = "http://alertmanager-1.example.com:9093"

    first = SOURCES["alertmanager"](from_first)
    second = SOURCES["alertmanager"](from_second)

    assert [a.dedupe_key for a in first.alerts] == [a.dedupe_key for a in second.alerts]


def test_dedupe_key_differs_once_the_alert_resolves() -> None:
    firing = example("alertmanager")
    resolved = example("alertmanager")
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2024-05-01T12:20:00Z"

    before = SOURCES["alertmanager"](firing).alerts[0]
    after = SOURCES["alertmanager"](resolved).alerts[0]

    assert before.fingerprint == after.fingerprint
    assert before.dedupe_key != after.dedupe_key


def test_make_alert_derives_severity_summary_runbook_and_fingerprint() -> None:
    alert = _alert(
        fingerprint="",
        labels={"alertname": "HighLatency", "severity": "critical"},
        annotations={"description": "p99 is 3s", "runbook_url": "https://runbooks/latency"},
    )

    assert alert.severity == "critical"
    assert alert.summary == "p99 is 3s"
    assert alert.links == {"runbook": "https://runbooks/latency"}
    assert alert.fingerprint == labels_fingerprint(alert.labels)


def test_make_alert_defaults_and_drops_empty_links() -> None:
    alert = _alert(labels={}, links={"generator": "", "dashboard": "https://d"})

    assert alert.severity == "warning"
    assert alert.alertname == "unnamed alert"
    assert alert.summary == ""
    assert alert.links == {"dashboard": "https://d"}


def test_alerts_are_frozen_and_need_aware_times() -> None:
    alert = _alert()
    with pytest.raises(ValidationError):
        alert.status = "resolved"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        _alert(starts_at=datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ((), "$"),
        (("alerts",), "alerts"),
        (("alerts", 3, "startsAt"), "alerts[3].startsAt"),
        (("alerts", 0, "labels", "severity"), "alerts[0].labels.severity"),
        ((0,), "[0]"),
    ],
)
def test_field_path(location: tuple[int | str, ...], expected: str) -> None:
    assert field_path(location) == expected


def test_times_at_the_edge_of_the_calendar_do_not_overflow() -> None:
    from bot.alerts.timestamps import is_unset, parse_rfc3339

    early = parse_rfc3339("0001-01-01T00:00:00+05:00")
    late = parse_rfc3339("9999-12-31T23:59:59-05:00")
    assert is_unset(early)
    assert early.astimezone(UTC).year == 1
    assert late.astimezone(UTC).year == 9999
