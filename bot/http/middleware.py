"""aiohttp middlewares shared by every route."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.http.limits import problem_response
from bot.telemetry import HTTP_REQUESTS

# aiohttp's own refusals, answered in the API's error shape: what is wrong and where.
_ROUTING_FIELDS = {404: "path", 405: "method", 413: "$"}


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
        field = _ROUTING_FIELDS.get(status)
        if field is None:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return problem_response(status, error.reason.lower(), field, headers)
    finally:
        HTTP_REQUESTS.labels(route=_route_name(request), status=str(status)).inc()
