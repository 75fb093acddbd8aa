"""A small client for the Prometheus HTTP API, enough for lab tests and scorecards."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
POLL_INTERVAL_S = 1.0


class PrometheusQueryError(RuntimeError):
    """Prometheus rejected a query or answered with something other than success."""


class LabWaitTimeout(TimeoutError):
    """A query kept returning nothing until the deadline."""


class PrometheusApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        async with (
            aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session,
            session.get(f"{self.base_url}{path}", params=params) as response,
        ):
            body = await response.json()
        if body.get("status") != "success":
            raise PrometheusQueryError(f"{path} {params}: {body.get('error', body)}")
        return body["data"]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query; each item has `metric` (labels) and `value` ([time, "number"])."""
        data = await self._get("/api/v1/query", {"query": promql})
        result: list[dict[str, Any]] = data["result"]
        return result

    async def values(self, promql: str) -> dict[str, float]:
        """Instant query reduced to {job: value}; series without a job label use ""."""
        return {
            row["metric"].get("job", ""): float(row["value"][1]) for row in await self.query(promql)
        }

    async def wait_for(self, promql: str, *, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Poll until the query returns at least one series; raise LabWaitTimeout otherwise."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = await self.query(promql)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise LabWaitTimeout(f"no series for {promql!r} within {timeout_s:.0f}s")
            await asyncio.sleep(POLL_INTERVAL_S)

    async def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus currently holds, pending and firing."""
        data = await self._get("/api/v1/alerts")
        alerts: list[dict[str, Any]] = data["alerts"]
        return alerts
