"""Catalog loading: the minimal contract, the shipped example, messages naming file and field."""

from __future__ import annotations

from pathlib import Path

import promql_parser
import pytest

from bot.catalog import (
    Catalog,
    CatalogError,
    DatadogApm,
    NewRelicApm,
    PrometheusApm,
    load_catalog,
    load_catalog_async,
    parse_catalog,
)
from bot.sources.promql import METRIC_NAME, matchers_from, render_template
from bot.sources.signals import Signal

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "services.yaml"
MINIMAL = "services:\n  checkout:\n    selector: {job: checkout}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, source="config/services.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def one_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def with_service(body: str) -> str:
    return "services:\n  checkout:\n" + "".join(f"    {line}\n" for line in body.splitlines())


def test_minimal_entry_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text(MINIMAL)
    catalog = load_catalog(path)
    service = catalog.get("checkout")
    assert service is not None
    assert service.name == "checkout"
    assert service.selector == {"job": "checkout"}
    assert service.apm == PrometheusApm()
    assert service.metrics == {}
    assert service.slo.p99_ms is None
    assert catalog.defaults.digest.cron == "0 9 * * MON"
    assert catalog.defaults.digest.timezone == "UTC"
    assert catalog.get("nope") is None


async def test_async_loader_reads_the_same_catalog(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text(MINIMAL)
    assert await load_catalog_async(path) == load_catalog(path)


def test_shipped_example_loads_and_its_templates_parse() -> None:
    catalog = load_catalog(SHIPPED)
    assert len(catalog.services) >= 3
    for service in catalog.services.values():
        for signal, override in service.metrics.items():
            assert isinstance(signal, Signal)
            if METRIC_NAME.match(override):
                continue
            expr = render_template(override, matchers_from(service.selector), "1m")
            promql_parser.parse(str(expr))


def test_apm_names_default_to_the_service_name() -> None:
    catalog = parse_catalog(
        "services:\n"
        "  pay:\n    selector: {job: pay}\n    apm: {backend: datadog, env: prod}\n"
        "  cat:\n    selector: {job: cat}\n    apm: {backend: newrelic, account_id: 42}\n"
        "  own:\n    selector: {job: own}\n    apm: {backend: datadog, service: own-svc}\n"
    )
    assert catalog.services["pay"].apm == DatadogApm(backend="datadog", service="pay", env="prod")
    assert catalog.services["cat"].apm == NewRelicApm(
        backend="newrelic", app_name="cat", account_id=42
    )
    assert catalog.services["own"].apm == DatadogApm(backend="datadog", service="own-svc")


def test_negative_slo_names_file_service_and_field() -> None:
    assert one_problem(with_service("selector: {job: checkout}\nslo: {p99_ms: -5}")) == (
        "config/services.yaml: services.checkout.slo.p99_ms: must be a positive number, got -5"
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        with_service("selector: {job: checkout}\nslo: {p95_ms: 0, availability_percent: 100.5}")
        + "  Bad_Name:\n    selector: {job: x}\n"
    )
    assert sorted(found) == sorted(
        [
            "config/services.yaml: services.checkout.slo.p95_ms: must be a positive number, got 0",
            "config/services.yaml: services.checkout.slo.availability_percent: "
            "must be at most 100, got 100.5",
            "config/services.yaml: services.Bad_Name: service name 'Bad_Name' must be 1-63 "
            "lowercase letters, digits, '_', '.' or '-', starting with a letter or digit",
        ]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("channel: C0INC1234", "services.checkout.selector: is required"),
        ("selector: {}", "services.checkout.selector: must not be empty"),
        ("selector: {9job: x}", "services.checkout.selector: '9job' is not a valid label name"),
        ("selector: {job: c}\nslo: {p99: 5}", "services.checkout.slo.p99: is not a known"),
        ("selector: {job: c}\nslo: {p99: 5}", "did you mean p99_ms?"),
        ("selector: {job: c}\nslo: {pool_size: 2.5}", "slo.pool_size: must be a whole number"),
        ("selector: {job: c}\nslo: {peak_rps: lots}", "slo.peak_rps: must be a number, got 'lots'"),
        ("selector: {job: c}\nchannel: general", "services.checkout.channel: must be a Slack"),
        ("selector: {job: c}\nowners: U0123ABCD", "owners: must be a Slack user group id"),
        ("selector: {job: c}\napm: {backend: dynatrace}", "services.checkout.apm: backend must"),
        ("selector: {job: c}\napm: {env: prod}", "services.checkout.apm: needs a backend"),
        (
            "selector: {job: c}\napm: {backend: newrelic}",
            "services.checkout.apm.account_id: is required",
        ),
        (
            "selector: {job: c}\napm: {backend: datadog, app_name: x}",
            "services.checkout.apm.app_name: is not a known setting",
        ),
        (
            "selector: {job: c}\nmetrics: {request_rates: x_total}",
            "services.checkout.metrics: 'request_rates' is not a signal name; "
            "did you mean request_rate?",
        ),
        (
            "selector: {job: c}\nmetrics: {heap_used: 'x{$selectors}'}",
            "services.checkout.metrics.heap_used: unknown placeholder $selectors",
        ),
        ("selector: {job: c}\nname: other", "services.checkout.name: is taken from the key"),
        (
            "selector: {job: c}\ndatabase: {role: app}",
            "services.checkout.database.dsn_env: is required",
        ),
        (
            "selector: {job: c}\ndatabase: {dsn_env: checkout_url}",
            "services.checkout.database.dsn_env: must name an environment variable in capitals",
        ),
        (
            "selector: {job: c}\ndatabase: {dsn_env: DB_URL, rol: app}",
            "services.checkout.database.rol: is not a known setting; did you mean role?",
        ),
        (
            "selector: {job: c}\ndatabase: {dsn_env: DB_URL, exporter: {9job: pg}}",
            "services.checkout.database.exporter: '9job' is not a valid label name",
        ),
        ("- just a list", "services.checkout: must be a mapping of settings"),
    ],
)
def test_service_problems_name_the_field(body: str, expected: str) -> None:
    found = one_problem(with_service(body))
    assert found.startswith("config/services.yaml: ")
    assert expected in found


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ("digest: {cron: '0 9 * * 1'}", "defaults.digest.cron: use day names"),
        ("digest: {cron: '0 25 * * MON'}", "defaults.digest.cron: "),
        ("digest: {cron: 'weekly'}", "defaults.digest.cron: wrong number of fields"),
        ("digest: {timezone: Mars/Olympus}", "defaults.digest.timezone: must be an IANA"),
        ("admins: [alice]", "defaults.admins.0: must be a Slack user id"),
        ("chanel: C0INC1234", "defaults.chanel: is not a known setting; did you mean channel?"),
    ],
)
def test_default_problems_name_the_field(defaults: str, expected: str) -> None:
    text = MINIMAL + "defaults:\n" + "".join(f"  {line}\n" for line in defaults.splitlines())
    assert expected in one_problem(text)


def test_channel_settings_are_validated_and_used() -> None:
    text = MINIMAL + "channels:\n  C0PAY1234:\n    digest: {cron: '0 8 * * FRI'}\n"
    catalog = parse_catalog(text)
    assert catalog.digest_for("C0PAY1234").cron == "0 8 * * FRI"
    assert catalog.digest_for("C0OTHER12") == catalog.defaults.digest
    bad = MINIMAL + "channels:\n  general:\n    digest: {cron: '0 8 * * FRI'}\n"
    assert "channels.general: must be a Slack channel id" in one_problem(bad)


def test_a_key_given_twice_is_refused_with_its_line() -> None:
    text = MINIMAL + "  checkout:\n    selector: {job: other}\n"
    assert one_problem(text) == "config/services.yaml: line 4: 'checkout' is given twice"


def test_yaml_syntax_errors_carry_the_line() -> None:
    found = one_problem("services:\n  checkout:\n    selector: {job: checkout\n")
    assert found.startswith("config/services.yaml: line 4: ")
    assert found.endswith("(not valid YAML)")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert one_problem("- checkout\n") == (
        "config/services.yaml: must be a mapping with a 'services:' key"
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.problems == [f"{path}: cannot be read (No such file or directory)"]


def test_closest_suggests_similar_names() -> None:
    catalog = Catalog.model_validate(
        {"services": {n: {"selector": {"job": n}} for n in ["checkout", "cart", "catalog-api"]}}
    )
    assert catalog.closest("chekout") == ["checkout"]
    assert catalog.closest("catalog")[0] == "catalog-api"
    assert catalog.closest("zzzz") == []
    assert len(catalog.closest("c", n=3)) <= 3


def test_channel_for_falls_back_to_the_default() -> None:
    catalog = parse_catalog(
        "defaults: {channel: C0DEFAULT1}\nservices:\n"
        "  a: {selector: {job: a}, channel: C0OWNCHAN1}\n  b: {selector: {job: b}}\n"
    )
    assert catalog.channel_for("a") == "C0OWNCHAN1"
    assert catalog.channel_for("b") == "C0DEFAULT1"
    assert catalog.channel_for("unknown") == "C0DEFAULT1"


def test_a_dsn_pasted_into_the_catalog_is_refused_without_being_echoed() -> None:
    dsn = "postgresql://app:zq-pasted-password@db:5432/checkout"
    found = one_problem(with_service(f"selector: {{job: c}}\ndatabase: {{dsn_env: '{dsn}'}}"))
    assert "services.checkout.database.dsn_env: must name an environment variable" in found
    assert "the DSN itself belongs in that variable" in found
    assert "zq-pasted-password" not in found


def test_database_variables_are_each_named_once() -> None:
    catalog = parse_catalog(
        "services:\n"
        "  a: {selector: {job: a}, database: {dsn_env: SHOP_URL, role: a}}\n"
        "  b: {selector: {job: b}, database: {dsn_env: SHOP_URL, role: b}}\n"
        "  c: {selector: {job: c}}\n"
    )
    assert catalog.database_variables() == ["SHOP_URL"]
