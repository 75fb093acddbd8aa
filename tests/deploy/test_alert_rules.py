"""The bot's own alerts: valid rules, each unit-tested firing and not firing, on real metrics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.metrics import exported_series, metrics_read_by

REPO = Path(__file__).resolve().parents[2]
RULE = REPO / "deploy" / "kubernetes" / "base" / "prometheusrule.yaml"
UNIT_TESTS = Path(__file__).resolve().parent / "triage_bot_alerts_test.yaml"
RULES_FILE = "triage-bot.rules.yaml"  # the name the unit tests' rule_files expects
EXPECTED_ALERTS = {
    "TriageBotEventLoopLagHigh",
    "TriageBotSlackWritesDelayed",
    "TriageBotDeadLetters",
    "TriageBotSlackErrors",
    "TriageBotWebhookErrors",
    "TriageBotNotReady",
    "TriageBotDown",
}
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (Debian: prometheus)"
)


def rule_groups() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(RULE.read_text())["spec"]
    return spec


def alerts() -> list[dict[str, Any]]:
    return [rule for group in rule_groups()["groups"] for rule in group["rules"] if "alert" in rule]


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def lay_out(directory: Path, groups: dict[str, Any]) -> None:
    (directory / RULES_FILE).write_text(yaml.safe_dump(groups, sort_keys=False))
    shutil.copy(UNIT_TESTS, directory / UNIT_TESTS.name)


def test_the_rule_carries_the_alerts_the_bot_needs() -> None:
    assert {rule["alert"] for rule in alerts()} == EXPECTED_ALERTS
    for rule in alerts():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_alerts_read_only_metrics_the_bot_exports() -> None:
    exported = exported_series()
    for rule in alerts():
        read = metrics_read_by(rule["expr"])
        assert read, rule["alert"]
        assert read <= exported, f"{rule['alert']} reads {sorted(read - exported)}"


@needs_promtool
def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    lay_out(tmp_path, rule_groups())
    result = promtool("check", "rules", RULES_FILE, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = [
        case
        for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]
    for name in EXPECTED_ALERTS:
        outcomes = [bool(case["exp_alerts"]) for case in cases if case["alertname"] == name]
        assert True in outcomes, f"{name} is never tested firing"
        assert False in outcomes, f"{name} is never tested staying quiet"


@needs_promtool
def test_alert_unit_tests_pass(tmp_path: Path) -> None:
    lay_out(tmp_path, rule_groups())
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_alert_unit_tests_catch_a_loosened_threshold(tmp_path: Path) -> None:
    groups = rule_groups()
    lag = next(r for r in groups["groups"][0]["rules"] if r["alert"] == "TriageBotEventLoopLagHigh")
    lag["expr"] = lag["expr"].replace("> 0.1", "> 0.5")
    lay_out(tmp_path, groups)
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "TriageBotEventLoopLagHigh" in result.stdout + result.stderr
