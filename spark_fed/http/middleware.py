"""The one place where errors become HTTP responses."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import SparkError
from .responses import error_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SparkError as exc:
        return error_response(exc.message, exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.reason, exc.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("internal server error", 500)
