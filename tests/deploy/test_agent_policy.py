"""The example NetworkPolicy for a service's agent: valid, and admitting only the bot's pods
to the agent's port; the bot's own policy lets it out to that port."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy import manifests
from tests.deploy.manifests import KUBERNETES_VERSIONS, one

pytestmark = pytest.mark.skipif(
    manifests.kubectl_missing() is not None, reason=str(manifests.kubectl_missing())
)
EXAMPLE = manifests.REPO / "deploy" / "kubernetes" / "examples" / "agent-networkpolicy.yaml"
AGENT_PORT = 9230
BOT_LABELS = {"app.kubernetes.io/name": "triage-bot", "app.kubernetes.io/component": "bot"}


def example() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_example_matches_the_kubernetes_schema(version: str) -> None:
    assert manifests.schema_problems(example(), version) is None


def test_only_the_bot_reaches_the_agent_port() -> None:
    rules = example()["spec"]["ingress"]
    to_agent = [r for r in rules if {"port": AGENT_PORT, "protocol": "TCP"} in r["ports"]]
    assert len(to_agent) == 1
    (source,) = to_agent[0]["from"]
    assert source["podSelector"]["matchLabels"] == BOT_LABELS
    others = [r for r in rules if r not in to_agent]
    assert all(AGENT_PORT not in [p["port"] for p in r["ports"]] for r in others)


def test_the_bot_may_connect_to_agents() -> None:
    policy = one(manifests.render("base"), "NetworkPolicy")
    ports = [p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])]
    assert AGENT_PORT in ports
