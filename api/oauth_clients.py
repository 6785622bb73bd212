"""OAuth client apps: registering them as `POST /api/v1/apps` does, finding and authenticating them.

Registration is open to anyone (that is how Mastodon apps bootstrap), so
every field is checked the way Mastodon's doorkeeper does before it is
stored: a redirect URI that a browser would follow to `javascript:` or to a
relative path is refused here, long before an authorization could use it.
"""

import base64
import binascii
import hmac
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web
from sqlmodel import select

from spark_fed.db import Database
from spark_fed.models import OAuthApp
from spark_fed.tokens import InvalidScope, allows, parse_scopes

from .oauth_errors import OAuthError

OOB = "urn:ietf:wg:oauth:2.0:oob"
# Mastodon's limits (ApplicationExtension): a name fits on the consent page, URIs fit a column.
NAME_LIMIT = 60
URI_LIMIT = 2000
FORBIDDEN_SCHEMES = frozenset({"data", "javascript", "vbscript", "file"})


class InvalidApp(ValueError):
    """The registration is invalid; the message lists every problem, as Mastodon's 422 does."""


def split_uris(value: Any) -> list[str]:
    """Redirect URIs as clients send them: one string (space- or newline-separated) or a list."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    uris: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidApp("Validation failed: Redirect URI must be text")
        uris.extend(item.split())
    return list(dict.fromkeys(uris))


def redirect_uri_problem(uri: str) -> str | None:
    """Why URI cannot be a redirect URI (doorkeeper's RedirectUriValidator), or None if it can."""
    if uri == OOB:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in uri):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if not scheme:
        return "must be an absolute URI"
    if scheme in FORBIDDEN_SCHEMES:
        return "uses a forbidden scheme"
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment"
    after_scheme = uri[len(scheme) + 1 :]
    # `localhost:3000` parses as scheme `localhost`; doorkeeper calls that an unspecified scheme.
    if not after_scheme.startswith("/"):
        return "must be an absolute URI"
    if scheme in ("http", "https") and not parts.hostname:
        return "must name a host"
    return None


def _check_website(website: Any) -> tuple[str | None, list[str]]:
    if website is None or website == "":
        return None, []
    if not isinstance(website, str):
        return None, ["Website is not a valid URL"]
    parts = urlsplit(website.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(website) > URI_LIMIT:
        return None, ["Website is not a valid URL"]
    return website.strip(), []


def _check_name(name: Any) -> tuple[str, list[str]]:
    if not isinstance(name, str) or not name.strip():
        return "", ["Name can't be blank"]
    name = name.strip()
    if len(name) > NAME_LIMIT:
        return name, [f"Name is too long (maximum is {NAME_LIMIT} characters)"]
    return name, []


def _check_redirect_uris(raw: Any) -> tuple[list[str], list[str]]:
    uris = split_uris(raw)
    if not uris:
        return [], ["Redirect URI can't be blank"]
    problems = [f"Redirect URI {problem}" for uri in uris if (problem := redirect_uri_problem(uri))]
    if len("\n".join(uris)) > URI_LIMIT:
        problems.append(f"Redirect URI is too long (maximum is {URI_LIMIT} characters)")
    return uris, problems


def _check_scopes(raw: Any) -> tuple[list[str], list[str]]:
    if isinstance(raw, list):
        raw = " ".join(str(s) for s in raw)
    if raw is not None and not isinstance(raw, str):
        return [], ["Scopes must be text"]
    try:
        return parse_scopes(raw if raw and raw.strip() else "read"), []
    except InvalidScope:
        return [], ["Scopes doesn't match configured on the server."]


def new_app(data: dict[str, Any]) -> OAuthApp:
    """An unsaved app from the registration DATA; `InvalidApp` names what is wrong with it."""
    name, problems = _check_name(data.get("client_name"))
    uris, uri_problems = _check_redirect_uris(data.get("redirect_uris"))
    scopes, scope_problems = _check_scopes(data.get("scopes"))
    website, website_problems = _check_website(data.get("website"))
    problems += uri_problems + scope_problems + website_problems
    if problems:
        raise InvalidApp("Validation failed: " + ", ".join(problems))
    return OAuthApp(
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
        name=name,
        website=website,
        redirect_uris="\n".join(uris),
        scopes=" ".join(scopes),
    )


async def register_app(db: Database, data: dict[str, Any]) -> OAuthApp:
    app = new_app(data)
    async with db.write() as session:
        session.add(app)
    return app


def app_entity(app: OAuthApp) -> dict[str, Any]:
    """Mastodon's CredentialApplication: the app with its credentials, shown once at registration."""
    uris = app.redirect_uris.split("\n")
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": app.redirect_uris,
        "redirect_uris": uris,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
        "vapid_key": None,
    }


async def find_app(db: Database, client_id: str) -> OAuthApp | None:
    async with db.read() as session:
        return (await session.exec(select(OAuthApp).where(OAuthApp.client_id == client_id))).first()


def client_credentials(request: web.Request, data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The client's id and secret: HTTP Basic first, then the body (doorkeeper's order)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded.strip():
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client") from None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return field(data, "client_id"), field(data, "client_secret")


async def authenticate_client(db: Database, client_id: str | None, secret: str | None) -> OAuthApp:
    """The app whose id and secret these are; anything else is `invalid_client` (401)."""
    if not client_id or secret is None:
        raise OAuthError("invalid_client")
    app = await find_app(db, client_id)
    if app is None or not hmac.compare_digest(app.client_secret.encode(), secret.encode()):
        raise OAuthError("invalid_client")
    return app


def field(data: dict[str, Any], name: str) -> str | None:
    """A text parameter; a JSON number is taken as its text, a list or object is malformed."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise OAuthError("invalid_request", f"The parameter {name} must be text.")
    return str(value)


def requested_scopes(app: OAuthApp, raw: str | None) -> list[str]:
    """The scopes asked for, which must be the app's own (`read` covers `read:statuses`).

    Without a scope Mastodon grants its default, `read`, when the app has it.
    """
    try:
        scopes = parse_scopes(raw if raw and raw.strip() else "read")
    except InvalidScope:
        raise OAuthError("invalid_scope") from None
    granted = app.scopes.split()
    if not scopes or not all(allows(granted, scope) for scope in scopes):
        raise OAuthError("invalid_scope")
    return scopes


def registered_redirect(app: OAuthApp, uri: str) -> bool:
    """Whether URI is one the app registered, compared exactly as doorkeeper does."""
    return uri in app.redirect_uris.split("\n")
