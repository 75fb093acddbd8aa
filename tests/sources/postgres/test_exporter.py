"""Statements ranked over the whole window from postgres_exporter's pg_stat_statements_* series,
scraped by a real Prometheus; with a database connection the texts and plans come from it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.sources.postgres import DatabaseConfig, ServiceEvidence
from bot.sources.postgres.collect import Metrics
from bot.sources.prometheus import PrometheusClient
from tests.promstack import growing_counters, prometheus_available, run_prometheus, serve_exposition
from tests.sources.postgres.conftest import SERVICE_ROLE, Cluster

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
]
ENV = "SHOP_DATABASE_URL"
WINDOW_S = 60


def exposition(statements: dict[int, tuple[float, float, str]], user: str = SERVICE_ROLE) -> str:
    """postgres_exporter's stat_statements series for {queryid: (calls, seconds, text)}."""
    lines = []
    for name in ("calls_total", "seconds_total", "rows_total"):
        lines.append(f"# TYPE pg_stat_statements_{name} counter")
        for queryid, (calls, seconds, _) in statements.items():
            value = {"calls_total": calls, "seconds_total": seconds, "rows_total": calls}[name]
            labels = f'user="{user}",datname="shop",queryid="{queryid}"'
            lines.append(f"pg_stat_statements_{name}{{{labels}}} {value}")
    lines.append("# TYPE pg_stat_statements_query_id gauge")
    for queryid, (_, _, text) in statements.items():
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'pg_stat_statements_query_id{{queryid="{queryid}",query="{escaped}"}} 1')
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def scraped(text: str) -> AsyncIterator[PrometheusClient]:
    async with (
        serve_exposition(growing_counters(text, per_second=0.5)) as target,
        run_prometheus({"pgexp": [target]}) as prometheus,
    ):
        await prometheus.wait_for_series("increase(pg_stat_statements_calls_total[1m]) > 0")
        async with PrometheusClient(prometheus.url) as client:
            yield client


async def test_without_a_dsn_the_exporter_alone_ranks_and_shows_the_statements() -> None:
    statements = {
        11: (1000.0, 40.0, "SELECT * FROM orders WHERE customer_email = 'ann@example.com'"),
        12: (90000.0, 2.0, "SELECT name FROM customers WHERE id = $1"),
    }
    config = DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE, exporter={"job": "pgexp"})
    async with scraped(exposition(statements)) as client:
        evidence = ServiceEvidence(config, None)
        metrics = Metrics(client.caller(cap=4), time.time())
        found = await evidence.collect(WINDOW_S, metrics)

    assert found.problem is None
    assert (found.source, found.span_s) == ("postgres_exporter", WINDOW_S)
    assert [s.queryid for s in found.statements][:2] == ["11", "12"]
    heaviest = found.statements[0]
    assert heaviest.text == "SELECT * FROM orders WHERE customer_email = ?"
    assert heaviest.calls > 0
    assert heaviest.mean_ms == pytest.approx(40.0, rel=0.05)  # 40 s over 1000 calls
    assert found.scans == ()
    assert any(note.startswith(f"{ENV} is not set") for note in found.notes)
    assert "ann@example.com" not in found.model_dump_json()


async def test_with_a_dsn_texts_and_plans_come_from_the_database(cluster: Cluster) -> None:
    async with await cluster.connect() as service:
        await service.execute(
            "SELECT id FROM orders WHERE customer_email = %s", ["customer-5@example.com"]
        )
    query = "SELECT id FROM orders WHERE customer_email = $1"
    queryid = int(
        await cluster.sql(f"SELECT queryid FROM pg_stat_statements WHERE query = '{query}'")
    )
    config = DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE, exporter={"job": "pgexp"})
    text = exposition({queryid: (500.0, 15.0, "SELECT id FROM orders WHERE cust…")})
    async with scraped(text) as client:
        evidence = ServiceEvidence(config, cluster.secret())
        started = time.monotonic()
        found = await evidence.collect(WINDOW_S, Metrics(client.caller(cap=4), time.time()))
        elapsed = time.monotonic() - started
        await evidence.close()

    assert found.problem is None, found.problem
    assert (found.source, found.span_s) == ("postgres_exporter", WINDOW_S)
    [statement] = found.statements
    assert statement.text == query  # the full text from the database, not the exporter's cut
    [scan] = found.scans
    assert (scan.table, scan.columns) == ("orders", ("customer_email",))
    assert elapsed < 0.5, "window counters need no sampling"


async def test_an_exporter_that_cannot_be_read_falls_back_to_sampling(cluster: Cluster) -> None:
    config = DatabaseConfig(dsn_env=ENV, role=SERVICE_ROLE, exporter={"job": "pgexp"})
    evidence = ServiceEvidence(config, cluster.secret())
    async with PrometheusClient("http://127.0.0.1:9") as down:
        found = await evidence.collect(WINDOW_S, Metrics(down.caller(cap=4), time.time()))
    await evidence.close()
    assert found.problem is None
    assert found.source == "pg_stat_statements"
    assert any("postgres_exporter's series could not be read" in n for n in found.notes)
