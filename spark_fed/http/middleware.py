"""The one place where errors become HTTP responses, and the headers every HTML page carries."""

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from ..errors import SparkError, UsageError
from ..state import CONFIG
from .negotiation import wants_html
from .responses import error_response
from .templates import render_template

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Page not found",
    410: "Gone",
    413: "Too large",
    422: "That didn't work",
    429: "Too many requests",
    500: "Something went wrong",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SparkError as exc:
        return _error(request, exc.message, exc.status)
    except UsageError as exc:
        # An action shared with the command line refused its input (a follow across a block, say):
        # a handler that does not translate it still answers 422, as the API does.
        return _error(request, str(exc), 422)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(request, exc.reason, exc.status)
    except (web.RequestPayloadError, BadHttpMessage):
        # The body broke off, its Content-Encoding does not decode, or a multipart part's headers
        # do not parse: the client's fault. Nothing more of it can be read, so aiohttp must not try
        # to drain it after the answer (it would raise again and drop the connection unanswered);
        # the connection closes after the 400.
        request.content.feed_eof()
        response = _error(request, "the request body cannot be read", 400)
        response.force_close()
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, "internal server error", 500)


def _error(request: web.Request, message: str, status: int) -> web.Response:
    """`{"error": …}` for programs; a page in the site's layout for a person's browser."""
    if not wants_html(request):
        return error_response(message, status)
    context = {
        "title": TITLES.get(status, "Something went wrong"),
        "message": message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."),
        "instance_title": request.app[CONFIG].instance.title,
    }
    return render_template(request, "error.html", context, status=status)


# No inline script, no framing, nothing loaded from another origin: every image, remote avatars
# and attachments included, comes through Spark's media proxy (`/media/ID/...`); `data:` is the
# composer's preview of a chosen file.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@web.middleware
async def page_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every HTML page, error pages included: the content policy above and no MIME sniffing."""
    response = await handler(request)
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
