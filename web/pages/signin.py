"""Signing in and out, and signing up when the instance takes registrations."""

from urllib.parse import urlsplit

from aiohttp import web

from spark_fed import browser_sessions
from spark_fed.accounts import create_local_user
from spark_fed.errors import UsageError
from spark_fed.http.forms import read_form
from spark_fed.passwords import WeakPassword, hash_password
from spark_fed.signin import (
    NOT_APPROVED,
    TOO_MANY,
    WRONG_CREDENTIALS,
    BadCredentials,
    NotApproved,
    TooManyAttempts,
    guard_for,
    remote_address,
    sign_in,
)
from spark_fed.state import CONTEXT

from ..auth import check_same_origin, clear_cookie, form_of, set_cookie, viewer
from ..render import page

routes = web.RouteTableDef()


def safe_next(value: object) -> str:
    """Only a path of this site: `next=https://evil.example` must not become an open redirect."""
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc or "\\" in text:
        return "/"
    return text


@routes.get("/auth/sign_in")
async def sign_in_page(request: web.Request) -> web.Response:
    if await viewer(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return await page(
        request, "sign_in.html", None, {"next": safe_next(request.query.get("next")), "login": ""}
    )


@routes.post("/auth/sign_in")
async def sign_in_form(request: web.Request) -> web.Response:
    # No session yet, so no CSRF token: the origin check stops another site signing a browser in.
    check_same_origin(request)
    form = await read_form(request)
    login = str(form.get("username", "")).strip()[:320]
    password = str(form.get("password", ""))
    target = safe_next(form.get("next"))
    ctx = request.app[CONTEXT]
    try:
        account = await sign_in(ctx, guard_for(request.app), remote_address(request), login, password)
    except (BadCredentials, TooManyAttempts, NotApproved) as exc:
        problem, status = {
            BadCredentials: (WRONG_CREDENTIALS, 422),
            TooManyAttempts: (TOO_MANY, 429),
            NotApproved: (NOT_APPROVED, 403),
        }[type(exc)]
        context = {"next": target, "login": login, "problem": problem}
        return await page(request, "sign_in.html", None, context, status=status)
    token = await browser_sessions.start(
        ctx.db,
        account,
        user_agent=request.headers.get("User-Agent", ""),
        address=remote_address(request),
    )
    response = web.HTTPSeeOther(target)
    set_cookie(request, response, token)
    raise response


@routes.post("/auth/sign_out")
async def sign_out(request: web.Request) -> web.Response:
    who, _form = await form_of(request)
    await browser_sessions.end(request.app[CONTEXT].db, who.account.id, who.session_id)
    response = web.HTTPSeeOther("/")
    clear_cookie(response)
    raise response


def _registrations(request: web.Request) -> str:
    mode = request.app[CONTEXT].config.instance.registrations
    if mode == "closed":
        raise web.HTTPNotFound(reason="registrations are closed")
    return mode


@routes.get("/auth/sign_up")
async def sign_up_page(request: web.Request) -> web.Response:
    mode = _registrations(request)
    return await page(request, "sign_up.html", None, {"mode": mode, "values": {}})


@routes.post("/auth/sign_up")
async def sign_up_form(request: web.Request) -> web.Response:
    mode = _registrations(request)
    check_same_origin(request)
    form = await read_form(request)
    values = {k: str(form.get(k, "")).strip() for k in ("username", "email")}
    ctx = request.app[CONTEXT]
    try:
        password_hash = await hash_password(ctx.config.auth, str(form.get("password", "")))
        account = await create_local_user(
            ctx.db,
            ctx.urls,
            values["username"],
            email=values["email"] or None,
            password_hash=password_hash,
            approved=mode == "open",
        )
    except (UsageError, WeakPassword) as exc:
        context = {"mode": mode, "values": values, "problem": f"Could not create the account: {exc}."}
        return await page(request, "sign_up.html", None, context, status=422)
    if mode != "open":
        return await page(request, "signed_up.html", None, {"account": account})
    token = await browser_sessions.start(
        ctx.db, account, user_agent=request.headers.get("User-Agent", ""), address=remote_address(request)
    )
    response = web.HTTPSeeOther("/")
    set_cookie(request, response, token)
    raise response
