"""Prometheus and Alertmanager for the lab, each on a free port with a temporary data dir."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from lab.packages import ALERTMANAGER_BINARY, PROMETHEUS_BINARY
from lab.procs import free_port, running_process, wait_until_ready
from lab.rules import RuleSettings, alert_rules


@dataclass(frozen=True)
class Webhook:
    """Where Alertmanager delivers notifications, with the bearer token it presents."""

    url: str
    token: SecretStr


def _write_private(path: Path, content: Mapping[str, Any]) -> None:
    # The Alertmanager file holds the webhook token: readable by the owner only.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump(dict(content), handle, sort_keys=False)


def scrape_config(jobs: Mapping[str, Sequence[str]], interval: str = "1s") -> dict[str, Any]:
    """Scrape every target of each job (`{job: [host:port, ...]}`) each `interval`."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(targets)}]}
            for job, targets in jobs.items()
        ],
    }


def prometheus_config(
    jobs: Mapping[str, str],
    alertmanager: str | None,
    scrape_interval: str = "1s",
    extra_scrape_configs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Scrape config with one job per lab service; `jobs` maps job name to host:port.

    `extra_scrape_configs` are added as they are (several targets of one job, with labels).
    """
    config = scrape_config({job: [jobs[job]] for job in sorted(jobs)}, scrape_interval)
    config["scrape_configs"] += [dict(extra) for extra in extra_scrape_configs]
    config["rule_files"] = ["rules.yml"]
    if alertmanager:
        targets = [{"targets": [alertmanager]}]
        config["alerting"] = {"alertmanagers": [{"static_configs": targets}]}
    return config


def alertmanager_config(webhook: Webhook | None) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": "bot"}
    if webhook is not None:
        http_config = {
            "authorization": {"type": "Bearer", "credentials": webhook.token.get_secret_value()}
        }
        receiver["webhook_configs"] = [
            {"url": webhook.url, "send_resolved": True, "http_config": http_config}
        ]
    route = {
        "receiver": "bot",
        "group_by": ["alertname", "job"],
        "group_wait": "1s",
        "group_interval": "5s",
        "repeat_interval": "1h",
    }
    return {"route": route, "receivers": [receiver]}


@contextlib.asynccontextmanager
async def running_alertmanager(workdir: Path, webhook: Webhook | None) -> AsyncIterator[str]:
    """Alertmanager without HA gossip; yields its base URL."""
    config_path = workdir / "alertmanager.yml"
    await asyncio.to_thread(_write_private, config_path, alertmanager_config(webhook))
    port = free_port()
    argv = [
        str(ALERTMANAGER_BINARY),
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    log_path = workdir / "alertmanager.log"
    async with running_process("alertmanager", argv, log_path=log_path) as proc:
        url = f"http://127.0.0.1:{port}"
        await wait_until_ready(proc, f"{url}/-/ready")
        yield url


@contextlib.asynccontextmanager
async def running_prometheus(
    workdir: Path,
    jobs: Mapping[str, str],
    *,
    alertmanager: str | None,
    rules: RuleSettings | None = None,
    extra_scrape_configs: Sequence[Mapping[str, Any]] = (),
) -> AsyncIterator[str]:
    """Prometheus scraping `jobs` every second with the lab alert rules; yields its base URL."""
    await asyncio.to_thread(_write_private, workdir / "rules.yml", alert_rules(rules))
    config = prometheus_config(jobs, alertmanager, extra_scrape_configs=extra_scrape_configs)
    async with prometheus_process(workdir, config) as url:
        yield url


@contextlib.asynccontextmanager
async def prometheus_process(
    workdir: Path, config: Mapping[str, Any], *, ready_timeout_s: float = 30.0
) -> AsyncIterator[str]:
    """The one way the lab and the tests start Prometheus: `config` written to `workdir` (rule
    files resolve there), its data under `workdir/data`, a free 127.0.0.1 port; yields its base
    URL once it is ready and stops it (with its process group) however the block exits."""
    config_path = workdir / "prometheus.yml"
    await asyncio.to_thread(_write_private, config_path, config)
    port = free_port()
    argv = [
        str(PROMETHEUS_BINARY),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1d",
    ]
    log_path = workdir / "prometheus.log"
    async with running_process("prometheus", argv, log_path=log_path) as proc:
        url = f"http://127.0.0.1:{port}"
        await wait_until_ready(proc, f"{url}/-/ready", timeout_s=ready_timeout_s)
        yield url
