from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from bot.triage.cli import run_triage_cli
from tests.promstack import (
    fixture_text,
    free_port,
    prometheus_available,
    run_prometheus,
    serve_exposition,
)
from tests.triage.helpers import ROOT

CATALOG = """
services:
  orders-api:
    selector: {service: orders-api}
    slo: {p99_ms: 800, availability_percent: 99.5, pool_size: 10}
  orders-worker:
    selector: {service: orders-worker}
"""


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("BOT_PLAYBOOK_DIR", str(ROOT / "playbooks"))
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    path = tmp_path / "services.yaml"
    path.write_text(CATALOG)
    return path


async def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_triage_cli(list(argv), out=out)
    return code, out.getvalue()


async def test_unknown_service_lists_the_closest(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = await run("orders-ap", "--services", str(catalog), "--prometheus-url", "http://x:1")
    assert code == 2
    message = capsys.readouterr().err
    assert "unknown service 'orders-ap'" in message
    assert "orders-api" in message


@pytest.mark.parametrize("window", ["30s", "31d", "ten minutes", "5x"])
async def test_bad_window_is_bad_input(
    catalog: Path, window: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("orders-api", "--window", window, "--services", str(catalog))
    code, _ = await run(*args, "--prometheus-url", "http://x:1")
    assert code == 2
    message = capsys.readouterr().err
    assert f"window {window!r}" in message
    assert "1m to 30d" in message or "such as 10m" in message


async def test_missing_prometheus_url_says_how_to_set_it(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = await run("orders-api", "--services", str(catalog))
    assert code == 2
    assert "PROMETHEUS_URL" in capsys.readouterr().err


async def test_bad_catalog_is_bad_input(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await asyncio.to_thread(catalog.write_text, "services:\n  a:\n    selector: {}\n")
    code, _ = await run("a", "--services", str(catalog), "--prometheus-url", "http://x:1")
    assert code == 2
    assert "selector" in capsys.readouterr().err


async def test_bad_playbook_is_bad_input(
    catalog: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "nodejs.yaml").write_text("name: nodejs\nsteps:\n  - {id: a, checks: [{kind: x}]}\n")
    monkeypatch.setenv("BOT_PLAYBOOK_DIR", str(books))
    code, _ = await run("orders-api", "--services", str(catalog), "--prometheus-url", "http://x:1")
    assert code == 2
    assert "unknown check kind 'x'" in capsys.readouterr().err


async def test_unreachable_backend_prints_the_report_and_exits_3(catalog: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out = await run(
        "orders-api", "--services", str(catalog), "--prometheus-url", url, "--json"
    )
    assert code == 3
    report = json.loads(out)
    assert {step["status"] for step in report["steps"]} == {"unknown"}
    assert report["diagnosis"]["cause"] == "insufficient_data"
    assert report["backend_errors"]


@pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")
async def test_json_output_is_one_object_with_the_public_shape(catalog: Path) -> None:
    async with (
        serve_exposition(fixture_text("promclient.txt")) as target,
        run_prometheus({"orders": [target]}) as prom,
    ):
        await prom.wait_for_series('nodejs_eventloop_lag_p99_seconds{service="orders-api"}')
        await prom.wait_for_scrapes("orders", 3)  # lag is read per step as a 1 s-resolution peak
        args = ("orders-api", "--window", "1m", "--services", str(catalog))
        code, out = await run(*args, "--prometheus-url", prom.url, "--json")
        text_code, text = await run(*args, "--prometheus-url", prom.url)
    assert code == 0
    assert text_code == 0
    report = json.loads(out)
    assert {"service", "window", "started_at", "duration_ms", "steps", "diagnosis"} <= set(report)
    assert report["service"] == "orders-api"
    assert report["window"] == "1m"
    assert [step["id"] for step in report["steps"]] == [
        "apm",
        "event_loop",
        "database",
        "downstreams",
        "memory",
        "changes",
    ]
    for step in report["steps"]:
        assert step["status"] in {"ok", "warn", "crit", "unknown"}
        for finding in step["findings"]:
            assert {"code", "severity", "summary", "evidence", "advice"} <= set(finding)
    assert {"cause", "confidence", "summary", "scope", "changes"} <= set(report["diagnosis"])
    lag = next(f for s in report["steps"] for f in s["findings"] if f["code"] == "eventloop_lag")
    assert lag["evidence"]["observed"]["p99_ms"] == pytest.approx(19.8, abs=0.1)
    assert text.startswith("orders-api")
    assert text.index("Diagnosis:") < text.index("Checklist:")
    assert "✔ Event loop" in text


async def test_unreachable_backend_text_names_the_error_once(catalog: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out = await run("orders-api", "--services", str(catalog), "--prometheus-url", url)
    assert code == 3
    assert out.count("Could not connect to Prometheus") == 1
    problems = out.index("Metrics backend problems:")
    assert out.index("Could not connect to Prometheus") > problems
    folded = [line for line in out.splitlines() if "not checked, backend unreachable:" in line]
    assert len(folded) == out.count("[unknown]") >= 1  # one terse line per step
    assert any("eventloop_lag" in line for line in folded)


DATABASE_CATALOG = """
services:
  orders-api:
    selector: {service: orders-api}
    database: {dsn_env: ORDERS_DATABASE_URL, role: orders_app}
"""


@pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus")
@pytest.mark.parametrize("dsn", [None, "closed-port"], ids=["unset", "unreachable"])
async def test_db_prints_the_database_step_alone_and_its_problem_without_the_dsn(
    catalog: Path, monkeypatch: pytest.MonkeyPatch, dsn: str | None
) -> None:
    await asyncio.to_thread(catalog.write_text, DATABASE_CATALOG)
    secret = f"postgresql://bot:zq-cli-secret@127.0.0.1:{free_port()}/orders"
    if dsn is None:
        monkeypatch.delenv("ORDERS_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("ORDERS_DATABASE_URL", secret)
    async with (
        serve_exposition(fixture_text("promclient.txt")) as target,
        run_prometheus({"orders": [target]}) as prom,
    ):
        await prom.wait_for_series('up{job="orders"} == 1')
        args = ("orders-api", "--window", "1m", "--services", str(catalog), "--db")
        code, text = await run(*args, "--prometheus-url", prom.url)
        json_code, out = await run(*args, "--prometheus-url", prom.url, "--json")
    assert (code, json_code) == (0, 0), "a database problem does not change the exit code"
    assert text.startswith("orders-api · database step · last 1m")
    assert "Event loop" not in text
    expected = (
        "ORDERS_DATABASE_URL is not set"
        if dsn is None
        else "cannot connect to the database in ORDERS_DATABASE_URL"
    )
    assert f"Database evidence unavailable: {expected}" in text
    assert "From the database step alone:" in text
    assert [step["id"] for step in json.loads(out)["steps"]] == ["database"]
    assert "zq-cli-secret" not in text + out
