"""The HTML side of OAuth: the sign-in and consent page, its CSRF token, error and code pages.

The consent form is protected by a double-submit token: the page sets a
random cookie (SameSite=Lax, so a cross-site form post arrives without it)
and the form carries an HMAC of that cookie and the request it shows. A
forged post from another site has neither; a tampered hidden field breaks
the HMAC. The page may never be framed (clickjacking the Authorize button)
and is never cached (it carries a token, the code page a code).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from spark_fed.http.templates import render_template
from spark_fed.models import OAuthApp
from spark_fed.state import CONTEXT

from .oauth_clients import OOB
from .oauth_codes import instance_key
from .oauth_errors import OAuthError

CSRF_COOKIE = "spark_oauth_csrf"
CSRF_FIELD = "csrf_token"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_\-]{43}")
PAGE_HEADERS = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
TOP_SCOPE_WORDS = {
    "read": "Read all your account's data",
    "write": "Change all your account's data",
    "follow": "Change your follows, blocks and mutes",
    "push": "Receive your push notifications",
    "profile": "Read only your account's profile",
}


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request: the app, where to send the code, what it may do."""

    app: OAuthApp
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None

    @property
    def native(self) -> bool:
        """An app without a web address (`urn:ietf:wg:oauth:2.0:oob`): the code is shown, not sent."""
        return self.redirect_uri == OOB

    def hidden_fields(self) -> dict[str, str]:
        """What the form carries back so that the POST can check the request again."""
        fields = {
            "client_id": self.app.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
        }
        if self.state is not None:
            fields["state"] = self.state
        if self.code_challenge is not None:
            fields["code_challenge"] = self.code_challenge
            fields["code_challenge_method"] = "S256"
        return fields


def scope_words(scope: str) -> str:
    """A line a person can read for SCOPE (`read:statuses`: 'Read your statuses')."""
    if scope in TOP_SCOPE_WORDS:
        return TOP_SCOPE_WORDS[scope]
    kind, _, what = scope.partition(":")
    return f"{'Read' if kind == 'read' else 'Change'} your {what.replace('_', ' ')}"


def _csrf_key(request: web.Request) -> bytes:
    return instance_key(request.app[CONTEXT], "consent form")


def csrf_cookie(request: web.Request) -> tuple[str, bool]:
    """The browser's CSRF cookie, or a new one; True when it is new and must be set."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if _COOKIE_VALUE.fullmatch(current):
        # Kept, so that a consent page open in another tab stays valid.
        return current, False
    return secrets.token_urlsafe(32), True


def csrf_token(request: web.Request, cookie: str, auth: AuthorizationRequest) -> str:
    bound = "\0".join([cookie, *(f"{k}={v}" for k, v in sorted(auth.hidden_fields().items()))])
    return hmac.new(_csrf_key(request), bound.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: web.Request, form: Mapping[str, str], auth: AuthorizationRequest) -> None:
    """Refuse a consent POST that did not come from the page this browser was shown."""
    origin = request.headers.get("Origin")
    config = request.app[CONTEXT].config
    if origin is not None and origin != config.base_url:
        raise OAuthError("invalid_request", "This form was sent from another site.", status=403)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not _COOKIE_VALUE.fullmatch(cookie) or not hmac.compare_digest(
        sent.encode(), csrf_token(request, cookie, auth).encode()
    ):
        raise OAuthError(
            "invalid_request", "The form has expired. Go back to the app and sign in again.", status=403
        )


def _page(request: web.Request, template: str, context: dict[str, object], status: int) -> web.Response:
    config = request.app[CONTEXT].config
    context = {"instance_title": config.instance.title, **context}
    response = render_template(request, template, context, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


def consent_page(
    request: web.Request,
    auth: AuthorizationRequest,
    *,
    login: str = "",
    problem: str | None = None,
    status: int = 200,
) -> web.Response:
    """The sign-in and consent form for AUTH, with a CSRF token bound to it and to this browser."""
    cookie, is_new = csrf_cookie(request)
    context = {
        "app": auth.app,
        "scopes": [(scope, scope_words(scope)) for scope in auth.scopes],
        "hidden": {**auth.hidden_fields(), CSRF_FIELD: csrf_token(request, cookie, auth)},
        "login": login,
        "problem": problem,
    }
    response = _page(request, "authorize.html", context, status)
    if is_new:
        secure = request.app[CONTEXT].config.server.scheme == "https"
        response.set_cookie(
            CSRF_COOKIE, cookie, path="/oauth", max_age=3600, httponly=True, samesite="Lax", secure=secure
        )
    return response


def error_page(request: web.Request, exc: OAuthError, status: int | None = None) -> web.Response:
    context = {"error": exc.error, "description": exc.description}
    return _page(request, "oauth_error.html", context, status or exc.status)


def code_page(request: web.Request, app: OAuthApp, code: str) -> web.Response:
    """For an app without a redirect URI: the code, to copy into the app."""
    return _page(request, "oauth_code.html", {"app": app, "code": code}, 200)
