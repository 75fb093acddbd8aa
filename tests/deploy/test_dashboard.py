"""deploy/grafana: a dashboard whose every query parses and reads only what the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from tests.deploy.metrics import exported_series, metrics_read_by

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "triage-bot-dashboard.json"
# Grafana's built-in interval variables, replaced the way Grafana does before sending a query.
GRAFANA_INTERVALS = {"$__rate_interval": "2m", "$__interval": "30s", "$__range": "6h"}
MUST_SHOW = {
    "bot_alert_webhooks_total",
    "bot_incidents_opened_total",
    "bot_triage_duration_seconds_bucket",
    "bot_slack_api_calls_total",
    "bot_outbox_pending_entries",
    "bot_outbox_oldest_entry_age_seconds",
    "bot_outbox_dead_letters",
    "bot_event_loop_lag_seconds_bucket",
}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    return [(panel["title"], t["expr"]) for panel in panels() for t in panel["targets"]]


def as_prometheus_sees_it(expr: str) -> str:
    for variable, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, value)
    assert "$__" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def test_dashboard_is_importable_json() -> None:
    board = dashboard()
    assert board["uid"] == "triage-bot"
    assert board["title"]
    assert isinstance(board["schemaVersion"], int)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))


def test_every_panel_queries_through_the_datasource_variable() -> None:
    for panel in panels():
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in dashboard()["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


@pytest.mark.parametrize(("title", "expr"), queries(), ids=[t for t, _ in queries()])
def test_query_parses_and_reads_only_metrics_the_bot_exports(title: str, expr: str) -> None:
    read = metrics_read_by(as_prometheus_sees_it(expr))
    assert read, f"{title}: reads no metric"
    unknown = read - exported_series()
    assert not unknown, f"{title} reads {sorted(unknown)}, which the bot does not export"


@pytest.mark.parametrize(("title", "expr"), queries(), ids=[t for t, _ in queries()])
def test_query_selects_the_bots_job(title: str, expr: str) -> None:
    selectors: list[promql_parser.VectorSelector] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            selectors.append(node)

    promql_parser.walk(promql_parser.parse(as_prometheus_sees_it(expr)), visit)
    for selector in selectors:
        jobs = [m.value for m in selector.matchers.matchers if m.name == "job"]
        assert jobs == ["triage-bot"], f"{title}: {selector} does not select job triage-bot"


def test_dashboard_shows_what_an_operator_of_the_bot_needs() -> None:
    shown = set().union(*(metrics_read_by(as_prometheus_sees_it(e)) for _, e in queries()))
    assert shown >= MUST_SHOW


def test_a_query_naming_a_metric_the_bot_lacks_is_caught() -> None:
    read = metrics_read_by("sum(rate(bot_webhooks_recieved_total[5m]))")
    assert read - exported_series() == {"bot_webhooks_recieved_total"}


def test_a_query_that_does_not_parse_is_caught() -> None:
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        metrics_read_by(as_prometheus_sees_it("sum(rate(bot_ready[$__rate_interval])"))


def test_template_variables_name_only_bot_metrics() -> None:
    for variable in dashboard()["templating"]["list"]:
        definition = variable.get("definition")
        if definition:
            inner = re.fullmatch(r"label_values\((.+), \w+\)", definition)
            assert inner is not None, definition
            assert metrics_read_by(inner.group(1)) <= exported_series()
