"""CORS for browser apps on other origins, on the paths Mastodon opens (config/initializers/cors.rb).

Any origin may call: these requests authenticate with a bearer token or
client credentials, never with a cookie, so no credentials are allowed and
`*` is safe. The consent page (`/oauth/authorize`) is deliberately left out:
it is navigated to, never fetched. The middleware belongs outside the error
middleware so that error answers carry the headers too, or a browser app
sees an opaque network error instead of Mastodon's `{"error": ...}`.
"""

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALL_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
# (path pattern, methods a browser may use there)
OPEN_PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/api/.*"), ALL_METHODS),
    (re.compile(r"/oauth/(token|revoke)"), "POST"),
    (re.compile(r"/\.well-known/.*"), "GET"),
    (re.compile(r"/(@|users/)[^/]+"), "GET"),
)
EXPOSED = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
PREFLIGHT_MAX_AGE = "7200"


def _methods_for(path: str) -> str | None:
    for pattern, methods in OPEN_PATHS:
        if pattern.fullmatch(path):
            return methods
    return None


def _is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _preflight(request: web.Request, methods: str) -> web.Response:
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
    asked = request.headers.get("Access-Control-Request-Headers")
    if asked:
        # Any header may be sent (rack-cors' `headers: :any`): echo what was asked for.
        headers["Access-Control-Allow-Headers"] = asked
    return web.Response(status=204, headers=headers)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    methods = _methods_for(request.path)
    if methods is None or "Origin" not in request.headers:
        return await handler(request)
    if _is_preflight(request):
        return _preflight(request, methods)
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # Redirects and errors raised past the error middleware are answers too.
        exc.headers.update(cors)
        raise
    if not response.prepared:  # a streamed answer has sent its headers already
        response.headers.update(cors)
    return response
