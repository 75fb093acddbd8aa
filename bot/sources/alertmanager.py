"""Thin client for Alertmanager's v2 API: creating silences for an incident's alerts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import aiohttp
from yarl import URL

DEFAULT_TIMEOUT_SECONDS = 10.0


class AlertmanagerError(Exception):
    """Alertmanager could not be reached or refused the request; the message says which."""


class AlertmanagerClient:
    def __init__(self, base_url: str, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._base = base_url.rstrip("/")
        self._where = str(URL(self._base).with_user(None).with_password(None))
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def create_silence(
        self,
        matchers: Mapping[str, str],
        *,
        duration: timedelta,
        created_by: str,
        comment: str,
        now: datetime | None = None,
    ) -> str:
        """Silence alerts whose labels equal every matcher; return the silence id."""
        if not matchers:
            raise AlertmanagerError("refusing to create a silence without matchers")
        start = now or datetime.now(UTC)
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in sorted(matchers.items())
            ],
            "startsAt": start.isoformat(),
            "endsAt": (start + duration).isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(f"{self._base}/api/v2/silences", json=body) as response,
            ):
                payload = await response.json(content_type=None)
                if response.status != 200:
                    raise AlertmanagerError(
                        f"Alertmanager refused the silence (HTTP {response.status}): {payload}"
                    )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise AlertmanagerError(
                f"Alertmanager at {self._where} could not be reached ({type(error).__name__})"
            ) from error
        return str(payload["silenceID"])
