"""aiohttp middlewares shared by every route."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.telemetry import HTTP_REQUESTS


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts requests by route template; raw paths would explode label cardinality."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        HTTP_REQUESTS.labels(route=_route_name(request), status=str(status)).inc()
