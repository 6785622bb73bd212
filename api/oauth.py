"""OAuth 2 as Mastodon does it: apps, the sign-in and consent page, tokens, revocation.

Statuses and error bodies follow Mastodon's doorkeeper setup, because that
is what clients were written against: `invalid_client` is 401, every other
token error 400 (a wrong password included), revoking another app's token
403, and the consent page never redirects to a URI the app did not register.
"""

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from spark_fed.config import Config
from spark_fed.errors import BadRequest, UnprocessableEntity
from spark_fed.http.responses import json_response
from spark_fed.models import Account, OAuthApp
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
from spark_fed.tokens import READ, TOP_SCOPES, WRITE, create_token, find_token, revoke_token

from .oauth_clients import (
    InvalidApp,
    app_entity,
    authenticate_client,
    client_credentials,
    field,
    find_app,
    register_app,
    registered_redirect,
    requested_scopes,
)
from .oauth_codes import CHALLENGE, instance_key, issue_code, open_code, pkce_matches, redeem, token_for
from .oauth_errors import NO_STORE, OAuthError, missing, oauth_json
from .oauth_pages import AuthorizationRequest, check_csrf, code_page, consent_page, error_page
from .params import body

routes = web.RouteTableDef()

REVOKE_DENIED = "You are not authorized to revoke this token"


# --- registering an app ------------------------------------------------------------------------


@routes.post("/api/v1/apps")
async def create_app(request: web.Request) -> web.Response:
    data = await body(request)
    try:
        app = await register_app(request.app[CONTEXT].db, data)
    except InvalidApp as exc:
        raise UnprocessableEntity(str(exc)) from None
    return json_response(app_entity(app))


# --- the consent page --------------------------------------------------------------------------


async def _app_and_redirect(request: web.Request, params: Mapping[str, str]) -> tuple[OAuthApp, str]:
    """The app and its registered redirect URI; until both are known nothing may redirect."""
    client_id = params.get("client_id")
    if not client_id:
        raise missing("client_id")
    app = await find_app(request.app[CONTEXT].db, client_id)
    if app is None:
        raise OAuthError("invalid_client")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise missing("redirect_uri")
    if not registered_redirect(app, redirect_uri):
        raise OAuthError("invalid_redirect_uri")
    return app, redirect_uri


def _code_challenge(params: Mapping[str, str]) -> str | None:
    challenge = params.get("code_challenge") or None
    if challenge is None:
        return None
    if params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_code_challenge_method")
    if not CHALLENGE.fullmatch(challenge):
        raise OAuthError("invalid_request", "The code challenge must be 43 characters of base64url.")
    return challenge


async def _authorization_request(request: web.Request, params: Mapping[str, str]) -> AuthorizationRequest:
    """Check an authorization request in doorkeeper's order; `OAuthError` says what is wrong."""
    app, redirect_uri = await _app_and_redirect(request, params)
    response_type = params.get("response_type")
    if not response_type:
        raise missing("response_type")
    if response_type != "code":
        raise OAuthError("unsupported_response_type")
    scopes = requested_scopes(app, params.get("scope"))
    state = params.get("state") or None
    return AuthorizationRequest(app, redirect_uri, scopes, state, _code_challenge(params))


@routes.get("/oauth/authorize")
@routes.get("/oauth/authorize/")
async def authorize_page(request: web.Request) -> web.Response:
    """The sign-in and consent page.

    It always asks for the password: Spark has no web sessions yet, so `force_login` is what
    happens anyway.
    """
    try:
        auth = await _authorization_request(request, request.query)
    except OAuthError as exc:
        return error_page(request, exc)
    return consent_page(request, auth)


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _send_back(request: web.Request, auth: AuthorizationRequest, params: dict[str, str]) -> web.Response:
    """Return PARAMS (a code, or an error) to the app: by redirect, or on a page for an oob app."""
    if auth.state is not None:
        params["state"] = auth.state
    if auth.native:
        if "code" in params:
            return code_page(request, auth.app, params["code"])
        return error_page(request, OAuthError(params["error"]))
    raise web.HTTPFound(_with_query(auth.redirect_uri, params), headers=NO_STORE)


@routes.post("/oauth/authorize")
@routes.post("/oauth/authorize/")
async def authorize(request: web.Request) -> web.Response:
    """The consent form's answer: check everything again, then the password, then send a code."""
    try:
        form = {key: str(value) for key, value in (await body(request)).items()}
    except BadRequest as exc:  # a person's browser gets a page, not JSON
        return error_page(request, OAuthError("invalid_request", exc.message))
    try:
        auth = await _authorization_request(request, form)
        check_csrf(request, form, auth)
    except OAuthError as exc:
        return error_page(request, exc)
    if form.get("decision") == "deny":
        return _send_back(request, auth, {"error": "access_denied"})
    login = form.get("username", "").strip()
    ctx = request.app[CONTEXT]
    try:
        account = await sign_in(
            ctx, guard_for(request.app), remote_address(request), login, form.get("password", "")
        )
    except TooManyAttempts:
        return consent_page(request, auth, login=login, problem=TOO_MANY, status=429)
    except BadCredentials:
        return consent_page(request, auth, login=login, problem=WRONG_CREDENTIALS, status=422)
    except NotApproved:
        return consent_page(request, auth, login=login, problem=NOT_APPROVED, status=403)
    code = issue_code(
        instance_key(ctx, "codes"),
        _id(account),
        _id(auth.app),
        auth.scopes,
        auth.redirect_uri,
        auth.code_challenge,
    )
    return _send_back(request, auth, {"code": code})


def _id(row: Account | OAuthApp) -> int:
    assert row.id is not None  # read from the database, so it has one
    return row.id


# --- tokens ------------------------------------------------------------------------------------


async def _oauth_body(request: web.Request) -> dict[str, Any]:
    """The parameters, from the body (form or JSON) or, as doorkeeper allows, the query string."""
    try:
        data = await body(request)
    except BadRequest as exc:
        raise OAuthError("invalid_request", exc.message) from None
    return {**request.query, **data}


def _token_response(token: str, scopes: list[str], created_at: int) -> web.Response:
    # `scope` must be there: Mastodon.py compares it with what it asked for.
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "created_at": created_at,
    }
    return json_response(body, headers=NO_STORE)


async def _authorization_code_grant(
    request: web.Request, app: OAuthApp, data: dict[str, Any]
) -> web.Response:
    code = field(data, "code")
    if not code:
        raise missing("code")
    redirect_uri = field(data, "redirect_uri")
    if not redirect_uri:
        raise missing("redirect_uri")
    ctx = request.app[CONTEXT]
    key = instance_key(ctx, "codes")
    grant = open_code(key, code)
    if grant is None or grant.app_id != app.id or grant.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant")
    if not pkce_matches(grant.code_challenge, field(data, "code_verifier") or None):
        raise OAuthError("invalid_grant")
    async with ctx.db.read() as session:
        if await session.get(Account, grant.account_id) is None:
            raise OAuthError("invalid_grant")
    token = token_for(key, code)
    created_at = await redeem(ctx.db, token, grant)
    if created_at is None:
        raise OAuthError("invalid_grant", "The authorization code has already been used.")
    return _token_response(token, grant.scopes.split(), created_at)


async def _password_grant(request: web.Request, app: OAuthApp, data: dict[str, Any]) -> web.Response:
    scopes = requested_scopes(app, field(data, "scope"))
    login, password = field(data, "username"), field(data, "password")
    if not login or password is None:
        raise OAuthError("invalid_grant")
    ctx = request.app[CONTEXT]
    try:
        account = await sign_in(ctx, guard_for(request.app), remote_address(request), login, password)
    except TooManyAttempts:
        # Mastodon's throttle answers so (rack-attack); clients show `error`.
        return json_response({"error": "Too many requests"}, status=429, headers={"Retry-After": "900"})
    except BadCredentials:
        raise OAuthError("invalid_grant") from None
    except NotApproved:
        raise OAuthError("invalid_grant", NOT_APPROVED) from None
    token = await create_token(ctx.db, account, scopes, app.id)
    return _token_response(token, scopes, int(time.time()))


async def _client_credentials_grant(
    request: web.Request, app: OAuthApp, data: dict[str, Any]
) -> web.Response:
    """A token for the app itself, with no account: enough to register or read public data."""
    scopes = requested_scopes(app, field(data, "scope"))
    token = await create_token(request.app[CONTEXT].db, None, scopes, app.id)
    return _token_response(token, scopes, int(time.time()))


GrantHandler = Callable[[web.Request, OAuthApp, dict[str, Any]], Awaitable[web.Response]]
GRANTS: dict[str, GrantHandler] = {
    "authorization_code": _authorization_code_grant,
    "password": _password_grant,
    "client_credentials": _client_credentials_grant,
}


@routes.post("/oauth/token")
@oauth_json
async def token(request: web.Request) -> web.Response:
    data = await _oauth_body(request)
    grant_type = field(data, "grant_type")
    if not grant_type:
        raise missing("grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError("unsupported_grant_type")
    app = await authenticate_client(request.app[CONTEXT].db, *client_credentials(request, data))
    return await grant(request, app, data)


@routes.post("/oauth/revoke")
@oauth_json
async def revoke(request: web.Request) -> web.Response:
    """RFC 7009 as doorkeeper does it: the client must authenticate and may revoke its own tokens.

    Tokens no app issued (`spark-fed tokens create`'s) count as public, as doorkeeper treats
    app-less tokens: any authenticated client holding one may revoke it. An unknown token is 200.
    """
    data = await _oauth_body(request)
    db = request.app[CONTEXT].db
    try:
        app = await authenticate_client(db, *client_credentials(request, data))
    except OAuthError:
        raise OAuthError("unauthorized_client", REVOKE_DENIED, status=403) from None
    token = field(data, "token")
    found = await find_token(db, token) if token else None
    if found is not None:
        if found.token.app_id is not None and found.token.app_id != app.id:
            raise OAuthError("unauthorized_client", REVOKE_DENIED, status=403)
        await revoke_token(db, token or "")
    return json_response({}, headers=NO_STORE)


# --- discovery ---------------------------------------------------------------------------------


def _request_scheme(request: web.Request, config: Config) -> str:
    """The scheme the client used (the document's URLs follow the request).

    A proxy's X-Forwarded-Proto says it; without one, an instance configured for https is
    behind a TLS proxy that does not say so, and otherwise the connection's own scheme holds.
    """
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if forwarded in ("http", "https"):
        return forwarded
    return "https" if config.server.scheme == "https" else request.scheme


@routes.get("/.well-known/oauth-authorization-server")
async def authorization_server(request: web.Request) -> web.Response:
    """RFC 8414 metadata, listing only what Spark really does (Mastodon.py reads `password` here)."""
    config = request.app[CONTEXT].config
    base = f"{_request_scheme(request, config)}://{config.server.domain}"
    scopes = [*TOP_SCOPES, *(f"read:{s}" for s in READ), *(f"write:{s}" for s in WRITE)]
    document = {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANTS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }
    return json_response(document)
