"""The catalog's `agent:` entry: accepted forms, and errors that name the field and the fix."""

from __future__ import annotations

import json

import pytest

from bot.catalog import CatalogError, parse_catalog


def agent_entry(agent: object) -> str:
    return json.dumps({"services": {"checkout": {"selector": {"job": "checkout"}, "agent": agent}}})


def problems(agent: object) -> str:
    with pytest.raises(CatalogError) as refused:
        parse_catalog(agent_entry(agent))
    return str(refused.value)


def test_a_port_or_a_url_template_locates_the_agent() -> None:
    by_port = parse_catalog(agent_entry({"port": 9230, "token_env": "CHECKOUT_AGENT_TOKEN"}))
    service = by_port.get("checkout")
    assert service is not None
    assert service.agent is not None
    assert service.agent.base_url("10.0.0.5") == "http://10.0.0.5:9230"
    assert service.agent.base_url("fd00::5") == "http://[fd00::5]:9230"
    assert by_port.agent_variables() == ["CHECKOUT_AGENT_TOKEN"]
    template = {"url": "https://{host}:9443/", "token_env": "CHECKOUT_AGENT_TOKEN"}
    by_url = parse_catalog(agent_entry(template)).get("checkout")
    assert by_url is not None
    assert by_url.agent is not None
    assert by_url.agent.base_url("web-1.internal") == "https://web-1.internal:9443"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ({"token_env": "T_TOKEN"}, "give either port"),
        ({"port": 1, "url": "http://{host}:1", "token_env": "T_TOKEN"}, "not both or neither"),
        ({"url": "http://agent:9230", "token_env": "T_TOKEN"}, "must hold {host} once"),
        ({"url": "ftp://{host}", "token_env": "T_TOKEN"}, "must start with http:// or https://"),
        ({"url": "http://{host}:{port}", "token_env": "T_TOKEN"}, "the only placeholder"),
        ({"port": 70000, "token_env": "T_TOKEN"}, "must be at most 65535, got 70000"),
        ({"port": 9230, "token_env": "s3cr3t-value"}, "must name an environment variable"),
        ({"port": 9230, "token_env": "T_TOKEN", "cpu_seconds": 90}, "cpu_seconds"),
        ({"port": 9230, "token": "T"}, "token"),
    ],
)
def test_bad_entries_name_the_problem(agent: object, expected: str) -> None:
    message = problems(agent)
    assert "checkout" in message
    assert "agent" in message
    assert expected in message


def test_a_token_pasted_in_place_of_its_variable_is_not_echoed() -> None:
    assert "s3cr3t-value" not in problems({"port": 9230, "token_env": "s3cr3t-value"})
