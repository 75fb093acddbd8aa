"""deploy/kubernetes renders, validates against the schemas, and says what the bot needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import SHUTDOWN_GRACE_SECONDS
from bot.config import load_config
from bot.http.server import SHUTDOWN_TIMEOUT_SECONDS
from bot.settings import Settings
from tests.deploy import manifests
from tests.deploy.manifests import KUBERNETES_VERSIONS, OPERATOR_GROUP, TREES, Manifest, one

pytestmark = pytest.mark.skipif(
    manifests.kubectl_missing() is not None, reason=str(manifests.kubectl_missing())
)
REPO = manifests.REPO
POD_LABELS = {"app.kubernetes.io/name": "triage-bot", "app.kubernetes.io/component": "bot"}


def deployment(tree: str) -> Manifest:
    return one(manifests.render(tree), "Deployment")


def container(tree: str) -> dict[str, Any]:
    (bot,) = deployment(tree)["spec"]["template"]["spec"]["containers"]
    return dict(bot)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("tree", TREES)
def test_built_in_kinds_match_the_kubernetes_schema(tree: str, version: str) -> None:
    built_in = [m for m in manifests.render(tree) if m["apiVersion"] != OPERATOR_GROUP]
    assert {m["kind"] for m in built_in} >= {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ConfigMap",
        "ServiceAccount",
    }
    problems = [p for m in built_in if (p := manifests.schema_problems(m, version))]
    assert problems == []


def test_schema_check_rejects_a_misspelt_field() -> None:
    broken = yaml.safe_load(yaml.safe_dump(deployment("base")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    problem = manifests.schema_problems(broken, KUBERNETES_VERSIONS[0])
    assert problem is not None
    assert "readinesProbe" in problem


@pytest.mark.skipif(manifests.node_missing() is not None, reason=str(manifests.node_missing()))
@pytest.mark.parametrize("tree", TREES)
def test_operator_kinds_match_the_prometheus_operator_schema(tree: str) -> None:
    operator = [m for m in manifests.render(tree) if m["apiVersion"] == OPERATOR_GROUP]
    assert sorted(m["kind"] for m in operator) == ["PrometheusRule", "ServiceMonitor"]
    assert manifests.operator_problems(operator) == []
    broken = yaml.safe_load(yaml.safe_dump(operator))
    for manifest in broken:
        manifest["spec"].pop("selector", None)
        manifest["spec"].get("endpoints", [{}])[0]["interval"] = "every 30 seconds"
        manifest["spec"].get("groups", [{}])[0]["rules"] = "not a list"
    assert len(manifests.operator_problems(broken)) == 2


def test_example_runs_three_replicas_and_rolls_without_losing_capacity() -> None:
    spec = deployment("overlays/example")["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["selector"]["matchLabels"] == POD_LABELS
    assert spec["template"]["metadata"]["labels"] == POD_LABELS
    budget = one(manifests.render("overlays/example"), "PodDisruptionBudget")["spec"]
    assert budget["selector"]["matchLabels"] == POD_LABELS
    assert budget["maxUnavailable"] == 1


def test_probes_point_at_readiness_and_liveness() -> None:
    bot = container("base")
    assert bot["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert bot["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert bot["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"name": "http", "containerPort": 3000, "protocol": "TCP"} in bot["ports"]


def test_grace_period_covers_the_pre_stop_wait_and_the_bots_drain() -> None:
    pod = deployment("base")["spec"]["template"]["spec"]
    pre_stop = container("base")["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    # SIGTERM comes after preStop; the bot then drains running triages, then waits for open
    # requests (the server's shutdown timeout), then closes its connections.
    needed = int(pre_stop[1]) + SHUTDOWN_GRACE_SECONDS + SHUTDOWN_TIMEOUT_SECONDS
    assert needed < pod["terminationGracePeriodSeconds"] <= needed + 10


def test_runs_unprivileged_on_a_read_only_root_with_one_temp_dir() -> None:
    pod = deployment("base")["spec"]["template"]["spec"]
    bot = container("base")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    assert bot["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    env = {item["name"]: item["value"] for item in bot["env"]}
    writable = [m["mountPath"] for m in bot["volumeMounts"] if not m.get("readOnly")]
    assert writable == [env["TMPDIR"]]
    assert env["MPLCONFIGDIR"].startswith(env["TMPDIR"] + "/")
    volumes = {v["name"]: v for v in pod["volumes"]}
    (tmp_mount,) = [m for m in bot["volumeMounts"] if m["mountPath"] == env["TMPDIR"]]
    assert "emptyDir" in volumes[tmp_mount["name"]]


def test_resources_request_memory_and_cpu_and_cap_memory() -> None:
    resources = container("base")["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"memory"}, "no CPU limit: throttling shows as loop lag"


@pytest.mark.parametrize("tree", TREES)
def test_secrets_are_referenced_never_carried(tree: str) -> None:
    rendered = manifests.render(tree)
    assert not [m for m in rendered if m["kind"] == "Secret"]
    bot = container(tree)
    assert {"secretRef": {"name": "triage-bot"}} in bot["envFrom"]
    settings_in_config_maps = {
        key for m in rendered if m["kind"] == "ConfigMap" for key in m.get("data", {})
    }
    secret_settings = {
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    assert {"SLACK_BOT_TOKEN", "ALERT_WEBHOOK_TOKEN", "REDIS_URL"} <= secret_settings
    assert not settings_in_config_maps & secret_settings
    assert not {item["name"] for item in bot.get("env", [])} & secret_settings


def test_every_setting_in_the_config_map_is_one_the_bot_reads() -> None:
    env = one_config_map("overlays/example", "triage-bot-env")
    assert set(env) <= set(Settings.model_fields)


def test_example_catalog_and_playbooks_load_as_the_bot_loads_them(tmp_path: Path) -> None:
    catalog_dir, playbook_dir = tmp_path / "catalog", tmp_path / "playbooks"
    for directory, name in (
        (catalog_dir, "triage-bot-catalog"),
        (playbook_dir, "triage-bot-playbooks"),
    ):
        directory.mkdir()
        for filename, text in one_config_map("overlays/example", name).items():
            (directory / filename).write_text(text)
    env = one_config_map("overlays/example", "triage-bot-env")
    assert (env["BOT_CONFIG_DIR"], env["BOT_PLAYBOOK_DIR"]) == mount_paths("overlays/example")
    settings = Settings(_env_file=None, BOT_CONFIG_DIR=catalog_dir, BOT_PLAYBOOK_DIR=playbook_dir)
    config = load_config(settings)
    assert sorted(config.catalog.services) == ["checkout", "payments"]
    database = next(step for step in config.playbook.steps if step.id == "database")
    assert "order_queue_depth" in [getattr(check.params, "code", None) for check in database.checks]


def test_base_playbook_is_the_shipped_one() -> None:
    shipped = (REPO / "playbooks" / "nodejs.yaml").read_text()
    assert one_config_map("base", "triage-bot-playbooks") == {"nodejs.yaml": shipped}


def test_service_and_service_monitor_reach_the_pods_http_port() -> None:
    rendered = manifests.render("overlays/example")
    service = one(rendered, "Service")
    assert service["spec"]["selector"] == POD_LABELS
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    monitor = one(rendered, "ServiceMonitor")["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["endpoints"]
    assert endpoint.pop("authorization") == {
        "type": "Bearer",
        "credentials": {"name": "triage-bot", "key": "METRICS_TOKEN"},
    }
    assert endpoint == {
        "port": "http",
        "path": "/metrics",
        "interval": "30s",
        "scrapeTimeout": "10s",
    }
    assert service["metadata"]["labels"][monitor["jobLabel"]] == "triage-bot"


def test_network_policy_admits_only_http_and_lets_out_only_what_the_bot_calls() -> None:
    policy = one(manifests.render("overlays/example"), "NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"] == POD_LABELS
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    (ingress,) = policy["ingress"]
    assert ingress == {"ports": [{"port": "http", "protocol": "TCP"}]}
    egress_ports = sorted(
        (port["port"], port["protocol"]) for rule in policy["egress"] for port in rule["ports"]
    )
    assert egress_ports == [
        (53, "TCP"),
        (53, "UDP"),
        (443, "TCP"),
        (6379, "TCP"),
        (9090, "TCP"),
        (9093, "TCP"),
        (9230, "TCP"),  # the Node.js agents, for profiles
        (26379, "TCP"),
    ]
    (https,) = [rule for rule in policy["egress"] if rule["ports"][0]["port"] == 443]
    assert "10.0.0.0/8" in https["to"][0]["ipBlock"]["except"]
    (redis,) = [rule for rule in policy["egress"] if rule["ports"][0]["port"] == 6379]
    assert redis["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "the overlay's Redis range"


def one_config_map(tree: str, name: str) -> dict[str, str]:
    (found,) = [
        m
        for m in manifests.render(tree)
        if m["kind"] == "ConfigMap" and m["metadata"]["name"].startswith(f"{name}-")
    ]
    return dict(found["data"])


def mount_paths(tree: str) -> tuple[str, str]:
    pod = deployment(tree)["spec"]["template"]["spec"]
    by_config_map = {v["name"]: v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    mounts = {
        by_config_map[m["name"]].rsplit("-", 1)[0]: m["mountPath"]
        for m in pod["containers"][0]["volumeMounts"]
        if m["name"] in by_config_map
    }
    return mounts["triage-bot-catalog"], mounts["triage-bot-playbooks"]
