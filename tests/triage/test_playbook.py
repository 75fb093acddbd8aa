from __future__ import annotations

from pathlib import Path

import pytest

from bot.triage.checks import REGISTRY
from bot.triage.checks.base import CheckParams
from bot.triage.playbook import PlaybookError, load_playbooks
from tests.triage.helpers import nodejs_playbook

STEP = """
name: custom
steps:
  - id: event_loop
    checks:
{checks}
"""


def write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_shipped_playbook_walks_the_checklist_in_order() -> None:
    playbook = nodejs_playbook()
    assert [step.id for step in playbook.steps] == [
        "apm",
        "event_loop",
        "database",
        "downstreams",
        "memory",
        "changes",
    ]
    lag = playbook.steps[1].checks[0]
    assert lag.kind.kind == "eventloop_lag"
    assert (lag.params.fine_ms, lag.params.warn_ms, lag.params.crit_ms) == (10, 100, 500)  # type: ignore[attr-defined]


def test_unknown_kind_names_file_step_and_known_kinds(tmp_path: Path) -> None:
    write(tmp_path, STEP.format(checks="      - kind: eventloop_lagg"))
    with pytest.raises(PlaybookError) as error:
        load_playbooks(tmp_path)
    message = str(error.value)
    assert "custom.yaml" in message
    assert "step 'event_loop'" in message
    assert "unknown check kind 'eventloop_lagg'" in message
    assert "eventloop_lag," in message


def test_bad_parameter_names_the_field(tmp_path: Path) -> None:
    write(tmp_path, STEP.format(checks="      - {kind: eventloop_lag, warn_ms: -5}"))
    with pytest.raises(
        PlaybookError,
        match=r"custom\.yaml: step 'event_loop', check #1 "
        r"\(eventloop_lag\): field 'warn_ms'",
    ):
        load_playbooks(tmp_path)


def test_unknown_parameter_is_refused(tmp_path: Path) -> None:
    write(tmp_path, STEP.format(checks="      - {kind: gc_time, warn_percent: 5}"))
    with pytest.raises(PlaybookError, match="field 'warn_percent'"):
        load_playbooks(tmp_path)


def test_thresholds_must_rise(tmp_path: Path) -> None:
    write(tmp_path, STEP.format(checks="      - {kind: eventloop_lag, warn_ms: 600}"))
    with pytest.raises(PlaybookError, match="fine_ms < warn_ms < crit_ms"):
        load_playbooks(tmp_path)


def test_generic_check_rejects_unknown_placeholders(tmp_path: Path) -> None:
    check = "      - {kind: promql_threshold, code: q, name: q, expr: 'x{$labels}', warn: 1}"
    write(tmp_path, STEP.format(checks=check))
    with pytest.raises(PlaybookError, match=r"field 'expr'.*\$labels"):
        load_playbooks(tmp_path)


def test_duplicate_step_ids_are_refused(tmp_path: Path) -> None:
    text = "name: x\nsteps:\n" + "  - {id: a, checks: [{kind: gc_time}]}\n" * 2
    write(tmp_path, text)
    with pytest.raises(PlaybookError, match="used twice: a"):
        load_playbooks(tmp_path)


def test_step_without_checks_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "name: x\nsteps:\n  - {id: a, checks: []}\n")
    with pytest.raises(PlaybookError, match="step 'a': 'checks' must be a non-empty list"):
        load_playbooks(tmp_path)


def test_extension_adds_checks_to_steps(tmp_path: Path) -> None:
    write(tmp_path, "name: base\nsteps:\n  - {id: memory, checks: [{kind: gc_time}]}\n", "a.yaml")
    write(
        tmp_path,
        "extends: base\nsteps:\n"
        "  - id: memory\n    checks:\n"
        "      - {kind: promql_threshold, code: q, name: queue,\n"
        "         expr: 'sum(q{$selector})', warn: 5}\n"
        "  - {id: extra, checks: [{kind: active_handles}]}\n",
        "b.yaml",
    )
    playbook = load_playbooks(tmp_path)["base"]
    assert [step.id for step in playbook.steps] == ["memory", "extra"]
    assert [c.kind.kind for c in playbook.steps[0].checks] == ["gc_time", "promql_threshold"]


def test_missing_directory_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="BOT_PLAYBOOK_DIR"):
        load_playbooks(tmp_path / "nope")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_kind_has_a_strict_parameter_model(kind: str) -> None:
    check = REGISTRY[kind]
    assert check.kind == kind
    assert issubclass(check.params_model, CheckParams)
    assert check.params_model.model_config.get("extra") == "forbid"
