"""One bounded JSON exchange with a vendor API, with its failures turned into one sentence.

Both vendor clients share this: a total deadline over the whole exchange, one retry on a
server error, and plain messages for bad credentials, rate limits and unreachable hosts.
Any text a vendor sends back is scrubbed of the credentials before it reaches a message.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from bot.sources.apm.base import ApmUnavailable

SERVER_ERROR_RETRY_DELAY_SECONDS = 0.5
MAX_DETAIL_CHARS = 200
_REDACTED = "[redacted]"
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Vendor:
    """How to talk about one vendor in messages, and how to read its error conventions."""

    name: str
    credential_hint: str
    secrets: tuple[str, ...]
    retry_after: Callable[[Mapping[str, str]], float | None]
    error_detail: Callable[[object], str | None] = field(default=lambda _body: None)

    def scrub(self, text: str) -> str:
        """Remove credentials and line breaks, and keep the text short."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, _REDACTED)
        text = _WHITESPACE.sub(" ", text).strip().rstrip(".")
        if len(text) > MAX_DETAIL_CHARS:
            text = text[: MAX_DETAIL_CHARS - 1].rstrip() + "…"
        return text


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, str] | None = None
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: object


async def fetch_json(
    session: aiohttp.ClientSession, request: Request, vendor: Vendor, timeout_seconds: float
) -> object:
    """Send `request` and return the decoded JSON of a 200 answer, or raise `ApmUnavailable`.

    The deadline covers the retry too, so a caller never waits longer than `timeout_seconds`.
    """
    try:
        async with asyncio.timeout(timeout_seconds):
            reply = await _send(session, request, vendor)
            if reply.status >= 500:
                await asyncio.sleep(SERVER_ERROR_RETRY_DELAY_SECONDS)
                reply = await _send(session, request, vendor)
    except TimeoutError:
        raise ApmUnavailable(
            f"{vendor.name} did not answer within {timeout_seconds:g} s."
        ) from None
    return _accept(reply, vendor)


async def _send(session: aiohttp.ClientSession, request: Request, vendor: Vendor) -> _Reply:
    try:
        async with session.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            params=request.params,
            json=request.payload,
        ) as response:
            text = await response.text()
            return _Reply(response.status, CIMultiDict(response.headers), _decode(text))
    except TimeoutError:
        raise  # aiohttp's read timeouts are also connection errors; the caller words these
    except aiohttp.ClientConnectionError:
        host = urlsplit(request.url).netloc
        raise ApmUnavailable(
            f"Could not connect to {vendor.name} at {host}; check the address and the network."
        ) from None
    except aiohttp.ClientError as error:
        raise ApmUnavailable(
            f"{vendor.name} sent an answer that could not be read ({type(error).__name__})."
        ) from None


_NOT_JSON = object()


def _decode(text: str) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return _NOT_JSON


def _accept(reply: _Reply, vendor: Vendor) -> object:
    status = reply.status
    if status in (401, 403):
        raise ApmUnavailable(
            f"{vendor.name} rejected the credentials (HTTP {status}): {vendor.credential_hint}."
        )
    if status == 429:
        raise ApmUnavailable(rate_limited_message(vendor, vendor.retry_after(reply.headers)))
    if status >= 500:
        raise ApmUnavailable(
            f"{vendor.name} failed with a server error (HTTP {status}) twice; try again shortly."
        )
    if status != 200:
        raise ApmUnavailable(_refused(vendor, status, reply.body))
    if reply.body is _NOT_JSON or reply.body is None:
        raise ApmUnavailable(f"{vendor.name} sent an answer that is not JSON (HTTP 200).")
    return reply.body


def rate_limited_message(vendor: Vendor, retry_in_seconds: float | None) -> str:
    if retry_in_seconds is None or retry_in_seconds <= 0:
        return f"{vendor.name} is rate-limiting queries; retry in a minute."
    return f"{vendor.name} is rate-limiting queries; retry in {math.ceil(retry_in_seconds)} s."


def _refused(vendor: Vendor, status: int, body: object) -> str:
    detail = vendor.error_detail(body) if body is not _NOT_JSON else None
    if detail:
        return f"{vendor.name} refused the query (HTTP {status}): {vendor.scrub(detail)}."
    return f"{vendor.name} refused the query (HTTP {status})."


def seconds_header(headers: Mapping[str, str], name: str) -> float | None:
    """A header holding a number of seconds, or None when absent or not a number."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
