"""Fast checks of the lab's generated configuration, against the real promtool and amtool."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from lab.monitoring import Webhook, _write_private, alertmanager_config, prometheus_config
from lab.nodeapp import FAULTS, NODE_DIR, ServiceSpec
from lab.procs import run_command
from lab.rules import RuleSettings, alert_rules

TOKEN = "lab-webhook-token-9c1e"


def test_python_fault_list_matches_the_node_service() -> None:
    source = (NODE_DIR / "faults.js").read_text(encoding="utf-8")
    block = re.search(r"const FAULTS = \[(.*?)\];", source, re.DOTALL)
    assert block is not None
    assert tuple(re.findall(r"'([a-z_]+)'", block.group(1))) == FAULTS


def test_service_spec_names_one_job_per_flavour_and_fault() -> None:
    assert ServiceSpec("otel", "heap_leak").job == "lab-otel-heap_leak"
    with pytest.raises(ValueError, match="fault must be one of"):
        ServiceSpec("otel", "no_such_fault")
    with pytest.raises(ValueError, match="flavour must be one of"):
        ServiceSpec("express", "healthy")  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
async def test_rules_and_scrape_config_pass_promtool(tmp_path: Path) -> None:
    rules = RuleSettings(latency_slo_s=0.25)
    _write_private(tmp_path / "rules.yml", alert_rules(rules))
    jobs = {"lab-promclient-healthy": "127.0.0.1:1", "lab-otel-healthy": "127.0.0.1:2"}
    _write_private(tmp_path / "prometheus.yml", prometheus_config(jobs, "127.0.0.1:3"))
    output = await run_command(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")], timeout_s=30
    )
    assert "5 rules found" in output
    names = [rule["alert"] for rule in alert_rules(rules)["groups"][0]["rules"]]
    assert names == [
        "LatencyP99OverSLO",
        "EventLoopLagHigh",
        "MemoryGrowing",
        "DbPoolSaturated",
        "HighErrorRate",
    ]


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")
async def test_alertmanager_config_is_valid_private_and_carries_the_bearer_token(
    tmp_path: Path,
) -> None:
    webhook = Webhook(url="http://127.0.0.1:9/alerts", token=SecretStr(TOKEN))
    path = tmp_path / "alertmanager.yml"
    _write_private(path, alertmanager_config(webhook))
    await run_command(["amtool", "check-config", str(path)], timeout_s=30)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    receiver = config["receivers"][0]["webhook_configs"][0]
    assert receiver["http_config"]["authorization"] == {"type": "Bearer", "credentials": TOKEN}
    assert config["route"]["group_wait"] == "1s"
    assert TOKEN not in repr(webhook)
