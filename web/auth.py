"""Who is signed in, and the checks every form post of a signed-in browser passes.

A state-changing request is authenticated by the session cookie only through
`form_of`, which also refuses it unless it comes from one of our own pages:
`Sec-Fetch-Site` must say same-origin (another port of this host is
"same-site", and refused), `Origin`, when sent, must be this origin, and the
form must carry the session's CSRF token. A handler cannot get a viewer for a
POST any other way, so no action can forget the check.
"""

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from spark_fed import browser_sessions
from spark_fed.browser_sessions import SignedIn
from spark_fed.errors import Forbidden
from spark_fed.models import Account
from spark_fed.state import CONTEXT

SIGN_IN = "/auth/sign_in"
COOKIE = "spark_session"
CSRF_FIELD = "csrf_token"
_SIGNED_IN = web.RequestKey("web_signed_in", object)
_UNSET = object()


@dataclass(frozen=True)
class Viewer:
    """The signed-in account and its session (whose CSRF token the page's forms carry)."""

    account: Account
    session_id: int
    csrf: str


async def viewer(request: web.Request) -> Viewer | None:
    """The signed-in viewer of a page (GET), or None; looked up once per request."""
    found = request.get(_SIGNED_IN, _UNSET)
    if found is _UNSET:
        signed_in = await browser_sessions.find(request.app[CONTEXT].db, request.cookies.get(COOKIE, ""))
        found = _viewer(signed_in)
        request[_SIGNED_IN] = found
    return found  # type: ignore[return-value]


def _viewer(signed_in: SignedIn | None) -> Viewer | None:
    if signed_in is None:
        return None
    return Viewer(signed_in.account, signed_in.session.id, signed_in.session.csrf_token)


async def require_viewer(request: web.Request) -> Viewer:
    """The viewer; a signed-out browser is sent to sign in and brought back here after."""
    found = await viewer(request)
    if found is None:
        back = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"{SIGN_IN}?{urlencode({'next': back})}")
    return found


def check_same_origin(request: web.Request) -> None:
    """Refuse a form post that another site (or another port of this host) made the browser send."""
    config = request.app[CONTEXT].config
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden("this form was sent from another site")
    origin = request.headers.get("Origin")
    if origin is not None and origin != config.base_url:
        raise Forbidden("this form was sent from another site")


async def form_of(request: web.Request) -> tuple[Viewer, MultiDictProxy[str]]:
    """The viewer and the form of a signed-in browser's POST, once it is shown to be ours."""
    check_same_origin(request)
    found = await require_viewer(request)
    form = await request.post()
    check_token(form, found.csrf)
    return found, form


def check_token(form: Mapping[str, object], expected: str) -> None:
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("this form has expired: reload the page and try again")


def set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    config = request.app[CONTEXT].config
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(browser_sessions.LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=config.server.scheme == "https",
    )


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
