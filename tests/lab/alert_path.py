"""The full alert path for incident-flow tests: fault -> Prometheus rule -> Alertmanager -> URL.

    async with alerting_lab([("otel", "db_pool_saturated")], url, SecretStr(token)) as lab:
        job = lab.service_job("otel", "db_pool_saturated")
        alerts = await wait_for_firing(lab, job, timeout_s=60)
        # ... Alertmanager is now delivering them to `url` with `Authorization: Bearer <token>`

The lab rules (`lab/rules.py`) label every alert `service=<job>`; give the bot a catalog whose
services select `{job: <job>}` (see `tests.lab.scorecard.write_catalog`) to map them back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from lab import Flavour, LabStack, LabWaitTimeout, Webhook

POLL_S = 1.0


def alerting_lab(
    pairs: Iterable[tuple[Flavour, str]], url: str, token: SecretStr, **options: Any
) -> LabStack:
    """A lab whose Alertmanager posts every alert to `url` with the bearer `token`."""
    return LabStack(pairs=list(pairs), webhook=Webhook(url=url, token=token), **options)


async def wait_for_firing(
    lab: LabStack, job: str, *, alertname: str | None = None, timeout_s: float = 90.0
) -> list[dict[str, Any]]:
    """Alerts Prometheus holds as firing for `job` (and `alertname`, if given)."""
    deadline = time.monotonic() + timeout_s
    while True:
        firing = [
            alert
            for alert in await lab.prometheus.alerts()
            if alert.get("state") == "firing"
            and alert["labels"].get("job") == job
            and alertname in (None, alert["labels"].get("alertname"))
        ]
        if firing:
            return firing
        if time.monotonic() >= deadline:
            raise LabWaitTimeout(f"no firing alert for {job} within {timeout_s:.0f}s")
        await asyncio.sleep(POLL_S)
