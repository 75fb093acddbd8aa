"""Every registered alert source passes the same contract; adding one means adding its payloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from bot.alerts.errors import AlertPayloadError
from bot.alerts.sources import SOURCES
from tests.alerts.conftest import PAYLOADS, example


def _set(path: tuple[str | int, ...], value: object) -> Callable[[Any], None]:
    def mutate(payload: Any) -> None:
        target = payload
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _delete(path: tuple[str | int, ...]) -> Callable[[Any], None]:
    def mutate(payload: Any) -> None:
        target = payload
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


# For each source: one way to break its example payload, and the field the error must name.
MALFORMED: dict[str, tuple[Callable[[Any], None], str]] = {
    "alertmanager": (_set(("alerts", 1, "startsAt"), "yesterday"), "alerts[1].startsAt"),
    "grafana": (_set(("alerts", 0, "status"), "pending"), "alerts[0].status"),
    "datadog": (_set(("date",), "soon"), "date"),
    "newrelic": (_delete(("createdAt",)), "createdAt"),
    "generic": (_set(("alerts", 1, "starts_at"), "2024-05-01"), "alerts[1].starts_at"),
}

source_names = pytest.mark.parametrize("source", sorted(SOURCES))


def test_every_example_payload_belongs_to_a_registered_source() -> None:
    files = {path.stem for path in PAYLOADS.glob("*.json")}
    assert files == set(SOURCES)
    assert set(MALFORMED) == set(SOURCES)


@source_names
def test_example_payload_parses_into_complete_alerts(source: str) -> None:
    batch = SOURCES[source](example(source))

    assert batch.source == source
    assert len(batch.alerts) >= 1
    for alert in batch.alerts:
        assert alert.source == source
        assert alert.status in ("firing", "resolved")
        assert alert.alertname
        assert alert.fingerprint
        assert alert.group_key
        assert isinstance(alert.starts_at, datetime)
        assert alert.starts_at.utcoffset() is not None
        assert alert.severity
        assert len(alert.dedupe_key) == 64


@source_names
def test_parsing_is_deterministic(source: str) -> None:
    first = SOURCES[source](example(source))
    second = SOURCES[source](example(source))

    assert first == second
    assert [a.dedupe_key for a in first.alerts] == [a.dedupe_key for a in second.alerts]


@source_names
def test_malformed_payload_names_the_bad_field(source: str) -> None:
    """A payload with nothing else to keep is refused naming the field; in a group with other
    good alerts, the bad one is named in `rejected` and the others are kept."""
    payload = example(source)
    mutate, expected_path = MALFORMED[source]
    mutate(payload)
    others = len(payload.get("alerts", [None])) - 1

    if others == 0:
        with pytest.raises(AlertPayloadError) as caught:
            SOURCES[source](payload)
        assert caught.value.field_path == expected_path
        assert caught.value.problem
        assert str(caught.value).startswith(f"{expected_path}: ")
        return
    batch = SOURCES[source](payload)
    assert [rejected.field for rejected in batch.rejected] == [expected_path]
    assert all(rejected.problem for rejected in batch.rejected)
    assert len(batch.alerts) == others


@source_names
@pytest.mark.parametrize("document", [[], "alerts", 42, None])
def test_a_document_that_is_not_an_object_is_rejected_at_the_root(
    source: str, document: object
) -> None:
    with pytest.raises(AlertPayloadError) as caught:
        SOURCES[source](document)

    assert caught.value.field_path == "$"


@source_names
def test_an_empty_object_names_a_missing_required_field(source: str) -> None:
    with pytest.raises(AlertPayloadError) as caught:
        SOURCES[source]({})

    assert caught.value.field_path != "$"
    assert caught.value.problem == "required field is missing"
