"""Bounds on what a request may send: body size per route, time to send the body, JSON depth.

    body = await read_body(request, max_bytes=16 * 1024 * 1024, within=30.0)
    payload = json.loads(body)
    nesting_problem(payload)   # ("alerts[0].labels.x", "nests deeper than 32 levels") or None

The time a client may take to send its request head is bounded by the server (see
`bot.http.server`); the body's by `read_body`, so a client sending a byte a second is cut off
either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from bot.http.schemas import Problem
from bot.validation import field_path

MAX_JSON_DEPTH = 32


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body is larger than {limit} bytes")
        self.limit = limit


class BodyTooSlow(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"body was not received within {seconds:g} s")
        self.seconds = seconds


async def read_body(request: web.Request, *, max_bytes: int, within: float) -> bytes:
    """The whole body, read as it arrives; raises BodyTooLarge past `max_bytes` and
    BodyTooSlow when it has not all arrived `within` seconds."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(max_bytes)
    body = bytearray()
    try:
        async with asyncio.timeout(within):
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > max_bytes:
                    raise BodyTooLarge(max_bytes)
    except TimeoutError:
        raise BodyTooSlow(within) from None
    return bytes(body)


def nesting_problem(document: Any, limit: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """The field where decoded JSON nests deeper than `limit` arrays and objects, and the
    problem; None when it does not."""
    for path, depth in _containers(document):
        if depth > limit:
            return field_path(path), f"nests deeper than {limit} levels of arrays and objects"
    return None


def _containers(document: Any) -> Iterator[tuple[tuple[int | str, ...], int]]:
    stack: list[tuple[Any, tuple[int | str, ...], int]] = [(document, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        yield path, depth
        stack.extend(
            (child, (*path, key), depth + 1)
            for key, child in children
            if isinstance(child, dict | list)
        )


def too_large(error: BodyTooLarge) -> web.Response:
    return problem_response(413, str(error), "$")


def too_slow(error: BodyTooSlow) -> web.Response:
    response = problem_response(408, str(error), "$")
    response.force_close()
    return response


def problem_response(
    status: int,
    message: str,
    field: str,
    headers: dict[str, str] | None = None,
    problem: str | None = None,
) -> web.Response:
    """The one error shape of the HTTP API: what is wrong, and the field (or header) it is in."""
    body = Problem(error=message, field=field, problem=problem).model_dump(exclude_none=True)
    return web.json_response(body, status=status, headers=headers)
