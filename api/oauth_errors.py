"""OAuth 2 errors in the shape clients parse: `{"error": code, "error_description": text}`.

The app's error middleware answers `{"error": message}` only; OAuth clients
(Mastodon.py, toot, browser apps) read the RFC 6749 §5.2 code from `error`
and show `error_description`, so the OAuth endpoints raise `OAuthError` and
`oauth_json` turns it into that body with doorkeeper's statuses and headers.
"""

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from spark_fed.http.responses import json_response

# Doorkeeper's English descriptions, so that messages read as they do on Mastodon.
DESCRIPTIONS = {
    "invalid_request": (
        "The request is missing a required parameter, includes an unsupported parameter value, "
        "or is otherwise malformed."
    ),
    "invalid_client": (
        "Client authentication failed due to unknown client, no client authentication included, "
        "or unsupported authentication method."
    ),
    "invalid_grant": (
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client."
    ),
    "unauthorized_client": "The client is not authorized to perform this request using this method.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "unsupported_response_type": "The authorization server does not support this response type.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "invalid_redirect_uri": "The requested redirect uri is malformed or doesn't match client redirect URI.",
    "invalid_code_challenge_method": "The code challenge method must be S256.",
    "access_denied": "The resource owner or authorization server denied the request.",
}
# Doorkeeper answers 401 for a client it cannot authenticate, 400 for everything else.
UNAUTHORIZED = frozenset({"invalid_client"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An OAuth error code (RFC 6749 §5.2) with an optional more precise description."""

    def __init__(self, error: str, description: str | None = None, status: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description or DESCRIPTIONS.get(error, error)
        self.status = status or (401 if error in UNAUTHORIZED else 400)

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def missing(name: str) -> OAuthError:
    return OAuthError("invalid_request", f"Missing required parameter: {name}.")


def oauth_error_response(exc: OAuthError) -> web.Response:
    headers = dict(NO_STORE)
    if exc.status == 401:
        # RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
        headers["WWW-Authenticate"] = f'Basic realm="Spark", error="{exc.error}"'
    return json_response(exc.body(), status=exc.status, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def oauth_json(handler: Handler) -> Handler:
    """Run HANDLER, answering an `OAuthError` it raises as RFC 6749 JSON instead of Spark's shape."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except OAuthError as exc:
            return oauth_error_response(exc)

    return wrapped
