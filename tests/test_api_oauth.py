"""OAuth 2 as Mastodon clients use it, over real HTTP against a running Spark.

Apps register, the consent page is read and submitted like a browser would
(with the cookie and CSRF token it hands out), codes are exchanged with
PKCE, and tokens are checked in the database with `find_token`.
"""

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from api.cors import cors_middleware
from spark_fed.accounts import set_password_hash
from spark_fed.passwords import hash_password
from spark_fed.signin import SignInGuard, guard_for
from spark_fed.tokens import find_token

PASSWORD = "correct horse battery"
REDIRECT = "https://client.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


class FormReader(HTMLParser):
    """The inputs of a page's form, and the text of the element with id `code`."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []
        self.action: str | None = None
        self.code = ""
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = attributes.get("action")
        elif tag == "input":
            self.inputs[attributes["name"]] = attributes.get("value", "")
        elif tag == "button":
            self.buttons.append((attributes.get("name", ""), attributes.get("value", "")))
        self._in_code = attributes.get("id") == "code"

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code += data.strip()

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
async def client(spark, aiohttp_client) -> TestClient:
    return await aiohttp_client(spark.server)


@pytest.fixture
async def alice(spark):
    account = await spark.user("alice", email="alice@example.com")
    await set_password_hash(spark.db, account, await hash_password(spark.config.auth, PASSWORD))
    return account


async def register(client: TestClient, **fields: Any) -> dict[str, Any]:
    data = {"client_name": "Test app", "redirect_uris": REDIRECT, "scopes": "read write follow", **fields}
    response = await client.post("/api/v1/apps", data=data)
    assert response.status == 200, await response.text()
    return await response.json()


async def open_consent(client: TestClient, app: dict[str, Any], **params: str) -> FormReader:
    query = {
        "client_id": app["client_id"],
        "redirect_uri": app["redirect_uri"].split("\n")[0],
        "response_type": "code",
        "scope": "read write",
        **params,
    }
    response = await client.get("/oauth/authorize", params=query)
    assert response.status == 200, await response.text()
    assert response.headers["X-Frame-Options"] == "DENY"
    return read_form(await response.text())


async def submit(client: TestClient, form: FormReader, **fields: str):
    data = {**form.inputs, "username": "alice", "password": PASSWORD, "decision": "authorize", **fields}
    return await client.post(form.action or "/oauth/authorize", data=data, allow_redirects=False)


async def password_token(client: TestClient, app: dict[str, Any], **fields: Any):
    data = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "alice",
        "password": PASSWORD,
        "scope": "read write",
        **fields,
    }
    return await client.post("/oauth/token", data=data)


# --- registration ------------------------------------------------------------------------------


async def test_register_app(client: TestClient) -> None:
    app = await register(client, redirect_uris=f"{REDIRECT} {OOB}", website="https://client.example")
    assert app["name"] == "Test app" and app["website"] == "https://client.example"
    assert app["redirect_uris"] == [REDIRECT, OOB] and app["redirect_uri"] == f"{REDIRECT}\n{OOB}"
    assert app["scopes"] == ["read", "write", "follow"]
    assert app["client_secret_expires_at"] == 0 and isinstance(app["id"], str)
    assert len(app["client_id"]) >= 32 and len(app["client_secret"]) >= 32

    response = await client.post(
        "/api/v1/apps", json={"client_name": "toot", "redirect_uris": ["myapp://callback", OOB]}
    )
    assert response.status == 200
    listed = await response.json()
    assert listed["redirect_uris"] == ["myapp://callback", OOB] and listed["scopes"] == ["read"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"client_name": ""}, "Name can't be blank"),
        ({"redirect_uris": ""}, "Redirect URI can't be blank"),
        ({"scopes": "read root"}, "Scopes"),
        ({"redirect_uris": "/callback"}, "Redirect URI must be an absolute URI"),
        ({"redirect_uris": "javascript:alert(1)"}, "Redirect URI"),
        ({"redirect_uris": "https://client.example/cb#frag"}, "fragment"),
        ({"website": "not a url"}, "Website"),
    ],
)
async def test_register_app_invalid(client: TestClient, fields: dict[str, str], problem: str) -> None:
    data = {"client_name": "Test app", "redirect_uris": REDIRECT, **fields}
    response = await client.post("/api/v1/apps", data=data)
    assert response.status == 422
    assert problem in (await response.json())["error"]


# --- the authorization code flow ---------------------------------------------------------------


async def test_authorization_code_flow_with_pkce(spark, client: TestClient, alice) -> None:
    app = await register(client)
    verifier, challenge = pkce_pair()
    form = await open_consent(
        client, app, state="xyz 1", code_challenge=challenge, code_challenge_method="S256"
    )
    assert {"username", "password", "csrf_token", "client_id", "redirect_uri", "code_challenge"} <= set(
        form.inputs
    )
    assert ("decision", "authorize") in form.buttons and form.action == "/oauth/authorize"

    response = await submit(client, form)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 1"]
    code = query["code"][0]

    exchange = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code": code,
        "redirect_uri": REDIRECT,
    }
    wrong = await client.post("/oauth/token", data={**exchange, "code_verifier": pkce_pair()[0]})
    assert wrong.status == 400 and (await wrong.json())["error"] == "invalid_grant"
    missing = await client.post("/oauth/token", data=exchange)
    assert missing.status == 400 and (await missing.json())["error"] == "invalid_grant"
    elsewhere = {**exchange, "redirect_uri": "https://client.example/other", "code_verifier": verifier}
    assert (await client.post("/oauth/token", data=elsewhere)).status == 400

    response = await client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    token = await response.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "read write"
    assert isinstance(token["created_at"], int)
    bearer = await find_token(spark.db, token["access_token"])
    assert bearer.account.id == alice.id and bearer.scopes == ["read", "write"]
    assert bearer.token.app_id == int(app["id"])

    again = await client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert again.status == 400 and (await again.json())["error"] == "invalid_grant"
    # A replayed code may have been stolen: the token it gave is revoked (RFC 6749 §4.1.2).
    assert await find_token(spark.db, token["access_token"]) is None


async def test_authorize_with_trailing_slash_and_e_mail(client: TestClient, alice) -> None:
    app = await register(client)
    response = await client.get(
        "/oauth/authorize/",
        params={"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code"},
    )
    assert response.status == 200
    form = read_form(await response.text())
    assert form.inputs["scope"] == "read"  # Mastodon's default scope
    response = await submit(client, form, username="Alice@Example.com")
    assert response.status == 302 and "code=" in response.headers["Location"]


async def test_oob_flow_shows_the_code(spark, client: TestClient, alice) -> None:
    app = await register(client, redirect_uris=OOB)
    form = await open_consent(client, app)
    response = await submit(client, form)
    assert response.status == 200 and "Location" not in response.headers
    assert response.headers["Cache-Control"].startswith("no-cache")
    code = read_form(await response.text()).code
    assert code
    response = await client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "code": code,
            "redirect_uri": OOB,
        },
    )
    assert response.status == 200, await response.text()
    bearer = await find_token(spark.db, (await response.json())["access_token"])
    assert bearer.account.id == alice.id


async def test_authorize_page_errors_never_redirect(client: TestClient) -> None:
    app = await register(client)
    base = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code"}
    cases = [
        ({**base, "client_id": "nope"}, 401, "invalid_client"),
        ({k: v for k, v in base.items() if k != "client_id"}, 400, "invalid_request"),
        ({**base, "redirect_uri": "https://evil.example/steal"}, 400, "invalid_redirect_uri"),
        ({**base, "response_type": "token"}, 400, "unsupported_response_type"),
        ({**base, "scope": "push"}, 400, "invalid_scope"),
        (
            {**base, "code_challenge": pkce_pair()[1], "code_challenge_method": "plain"},
            400,
            "invalid_code_challenge_method",
        ),
    ]
    for params, status, error in cases:
        response = await client.get("/oauth/authorize", params=params, allow_redirects=False)
        assert response.status == status, params
        assert "Location" not in response.headers
        assert response.content_type == "text/html" and error in await response.text()


async def test_consent_form_refuses_forgeries(spark, aiohttp_client, client: TestClient, alice) -> None:
    app = await register(client)
    form = await open_consent(client, app, state="s")

    stranger = await aiohttp_client(spark.server)  # another browser: no cookie
    assert (await submit(stranger, form)).status == 403
    assert (await submit(client, form, csrf_token="0" * 64)).status == 403
    # A hidden field changed: the token no longer matches the request it was made for.
    assert (await submit(client, form, scope="read")).status == 403
    response = await client.post(
        "/oauth/authorize",
        data={**form.inputs, "username": "alice", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403

    response = await submit(client, form, password="wrong password")
    assert response.status == 422
    again = read_form(await response.text())
    assert again.inputs["username"] == "alice" and again.inputs["password"] == ""
    assert "Wrong username" in await response.text()

    response = await submit(client, again, decision="deny")
    assert response.status == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["s"],
    }


async def test_hostile_app_name_is_escaped(client: TestClient) -> None:
    app = await register(client, client_name='<script>alert("x")</script>')
    response = await client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "read write:statuses",
            "state": '"><script>',
        },
    )
    html = await response.text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    form = read_form(html)
    assert form.inputs["state"] == '"><script>'
    assert "write:statuses" in html and "Read all your account" in html


# --- the password and client credentials grants ------------------------------------------------


async def test_password_grant(spark, client: TestClient, alice) -> None:
    app = await register(client)
    response = await password_token(client, app, redirect_uri=OOB, to_file="x", unknown="ignored")
    assert response.status == 200, await response.text()
    token = await response.json()
    assert token["scope"] == "read write" and token["token_type"] == "Bearer"
    assert (await find_token(spark.db, token["access_token"])).account.id == alice.id

    response = await password_token(client, app, username="ALICE@example.com", scope="read:statuses")
    assert response.status == 200 and (await response.json())["scope"] == "read:statuses"

    response = await client.post(
        "/oauth/token",
        json={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": PASSWORD,
            "scope": "read write follow",
        },
    )
    assert response.status == 200 and (await response.json())["scope"] == "read write follow"

    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status == 200 and (await response.json())["scope"] == "read"


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"password": "wrong password"}, 400, "invalid_grant"),
        ({"username": "nobody"}, 400, "invalid_grant"),
        ({"client_id": "unknown"}, 401, "invalid_client"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"scope": "push"}, 400, "invalid_scope"),
        ({"scope": "read admin:read"}, 400, "invalid_scope"),
        ({"grant_type": "implicit"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
    ],
)
async def test_token_errors(
    client: TestClient, alice, fields: dict[str, str], status: int, error: str
) -> None:
    app = await register(client)
    response = await password_token(client, app, **fields)
    assert response.status == status
    body = await response.json()
    assert body["error"] == error and body["error_description"]
    if status == 401:
        assert "WWW-Authenticate" in response.headers


async def test_client_credentials(spark, client: TestClient) -> None:
    app = await register(client)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read",
        },
    )
    assert response.status == 200
    token = await response.json()
    assert token["scope"] == "read"
    bearer = await find_token(spark.db, token["access_token"])
    assert bearer.account is None and bearer.token.app_id == int(app["id"])


# --- revocation --------------------------------------------------------------------------------


async def test_revoke(spark, client: TestClient, alice) -> None:
    app, other = await register(client), await register(client, client_name="Other")
    token = (await (await password_token(client, app)).json())["access_token"]
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}

    response = await client.post(
        "/oauth/revoke",
        data={"token": token, "client_id": other["client_id"], "client_secret": other["client_secret"]},
    )
    assert response.status == 403 and (await response.json())["error"] == "unauthorized_client"
    response = await client.post("/oauth/revoke", data={"token": token, "client_id": app["client_id"]})
    assert response.status == 403
    assert await find_token(spark.db, token) is not None

    response = await client.post("/oauth/revoke", data={"token": token, **credentials})
    assert response.status == 200 and await response.json() == {}
    assert await find_token(spark.db, token) is None
    response = await client.post("/oauth/revoke", data={"token": "never issued", **credentials})
    assert response.status == 200 and await response.json() == {}


# --- guessing passwords ------------------------------------------------------------------------


async def test_failure_counter_engages(spark, client: TestClient, alice) -> None:
    app = await register(client)
    for _ in range(5):
        response = await password_token(client, app, password="wrong password")
        assert response.status == 400
    response = await password_token(client, app)  # the right password, too late
    assert response.status == 429 and response.headers["Retry-After"]
    assert (await response.json())["error"] == "Too many requests"

    form = await open_consent(client, app)
    response = await submit(client, form)
    assert response.status == 429 and "Too many failed sign-ins" in await response.text()
    assert guard_for(spark.app).failures("127.0.0.1", alice.id) == (5, 5)


async def test_failures_per_account_and_per_forwarded_address(spark, client: TestClient, alice) -> None:
    """Behind a local proxy each client counts on its own, and one account has its own limit."""
    app = await register(client)

    def via(address: str) -> dict[str, str]:
        # The client's forged entry comes first; the proxy appends the address it saw.
        return {"X-Forwarded-For": f"203.0.113.1, {address}"}

    async def attempt(address: str, password: str, username: str = "alice") -> int:
        fields = {"grant_type": "password", "username": username, "password": password}
        response = await client.post(
            "/oauth/token",
            data={**fields, "client_id": app["client_id"], "client_secret": app["client_secret"]},
            headers=via(address),
        )
        return response.status

    for _ in range(5):
        assert await attempt("198.51.100.1", "wrong password", username="nobody") == 400
    assert await attempt("198.51.100.1", PASSWORD) == 429
    assert await attempt("198.51.100.2", PASSWORD) == 200  # another client is not slowed

    for n in range(10):
        assert await attempt(f"198.51.100.{10 + n}", "wrong password") == 400
    assert await attempt("198.51.100.99", PASSWORD) == 429  # alice's own limit, from anywhere
    assert guard_for(spark.app).failures("203.0.113.1") == (0, 0)


def test_guard_counts_accounts_and_is_bounded() -> None:
    guard = SignInGuard(size=3, address_limit=5, account_limit=3)
    for n in range(3):
        assert not guard.blocked(f"10.0.0.{n}", 1)
        guard.failed(f"10.0.0.{n}", 1)
    assert guard.blocked("10.0.0.99", 1)  # many addresses, one account
    assert not guard.blocked("10.0.0.99", 2)
    guard.succeeded(1)
    assert not guard.blocked("10.0.0.99", 1)

    for n in range(10):
        guard.failed(f"192.0.2.{n}", None)
    # Only the newest three addresses are remembered: memory stays bounded.
    assert guard.failures("192.0.2.9") == (1, 0)
    assert guard.failures("192.0.2.0") == (0, 0) and guard.failures("10.0.0.0") == (0, 0)


# --- discovery and CORS ------------------------------------------------------------------------


async def test_authorization_server_metadata(spark, client: TestClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status == 200
    document = await response.json()
    assert document["issuer"] == f"{spark.base}/"
    assert document["token_endpoint"] == f"{spark.base}/oauth/token"
    assert document["authorization_endpoint"] == f"{spark.base}/oauth/authorize"
    assert document["revocation_endpoint"] == f"{spark.base}/oauth/revoke"
    assert document["app_registration_endpoint"] == f"{spark.base}/api/v1/apps"
    assert document["grant_types_supported"] == ["authorization_code", "password", "client_credentials"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert {"read", "write", "follow", "push", "read:statuses"} <= set(document["scopes_supported"])

    response = await client.get(
        "/.well-known/oauth-authorization-server", headers={"X-Forwarded-Proto": "https"}
    )
    assert (await response.json())["token_endpoint"] == f"https://{spark.domain}/oauth/token"


async def test_cors_middleware(aiohttp_client) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = web.Application(middlewares=[cors_middleware])
    app.router.add_post("/oauth/token", ok)
    app.router.add_get("/api/v1/instance", ok)
    app.router.add_get("/api/v1/missing", missing)
    app.router.add_get("/oauth/authorize", ok)
    client = await aiohttp_client(app)
    origin = {"Origin": "https://web.example"}

    response = await client.options(
        "/oauth/token",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert "Access-Control-Allow-Credentials" not in response.headers

    response = await client.get("/api/v1/instance", headers=origin)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    response = await client.get("/api/v1/missing", headers=origin)
    assert response.status == 404 and response.headers["Access-Control-Allow-Origin"] == "*"
    # The consent page is navigated to, never fetched from another origin.
    response = await client.get("/oauth/authorize", headers=origin)
    assert "Access-Control-Allow-Origin" not in response.headers
