"""The web interface over HTTP: sessions, the same-origin rule, registration, errors and headers.

The browser tests (tests/web/) drive the pages in Chromium; these check the
rules a browser does not show: cookie flags, what a cross-origin post changes
(nothing), which requests find a session, what the commands see.
"""

import asyncio
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from spark_fed.cli import main
from spark_fed.config import InstanceConfig
from spark_fed.models import Status, WebSession
from spark_fed.passwords import hash_password
from spark_fed.signin import guard_for
from tests.conftest import CHEAP_PASSWORDS, Spark

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def alice(spark: Spark):
    return await spark.user("alice", password_hash=await hash_password(CHEAP_PASSWORDS, PASSWORD))


@pytest.fixture
async def client(spark: Spark, aiohttp_client) -> TestClient:
    return await aiohttp_client(spark.server)


async def sign_in(client: TestClient, username: str = "alice", password: str = PASSWORD, **headers: str):
    return await client.post(
        "/auth/sign_in",
        data={"username": username, "password": password, "next": "/"},
        headers={"Sec-Fetch-Site": "same-origin", **headers},
        allow_redirects=False,
    )


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def statuses(spark: Spark) -> list[Status]:
    async with spark.db.read() as session:
        return list((await session.exec(select(Status))).all())


async def test_sign_in_sets_a_session_cookie(spark: Spark, client: TestClient, alice) -> None:
    response = await sign_in(client)
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("spark_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # server.scheme is http here
    async with spark.db.read() as session:
        [row] = (await session.exec(select(WebSession))).all()
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    assert row.account_id == alice.id and token not in row.token_hash  # only a digest is stored
    home = await client.get("/", headers=HTML)
    html = await home.text()
    assert "What&#39;s happening?" in html and "Sign out" in html
    assert home.headers["Cache-Control"] == "no-store"


async def test_wrong_credentials_get_one_generic_message(client: TestClient, alice) -> None:
    for username, password in (("alice", "wrong password"), ("nobody", PASSWORD)):
        response = await sign_in(client, username, password)
        assert response.status == 422
        html = await response.text()
        assert "Wrong username, e-mail or password." in html
        assert "Set-Cookie" not in response.headers


async def test_failures_are_counted_with_the_oauth_password_grant(spark: Spark, client, alice) -> None:
    for _ in range(5):
        assert (await sign_in(client, "alice", "wrong password")).status == 422
    response = await sign_in(client)  # the right password, too late
    assert response.status == 429 and "Too many failed sign-ins" in await response.text()
    assert guard_for(spark.app).failures("127.0.0.1", alice.id) == (5, 5)
    app = await (
        await client.post(
            "/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        )
    ).json()
    grant = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": PASSWORD,
        },
    )
    assert grant.status == 429  # the same guard stops the other door


async def test_cross_origin_posts_are_refused_and_change_nothing(
    spark: Spark, client: TestClient, alice
) -> None:
    await sign_in(client)
    csrf = csrf_of(await (await client.get("/", headers=HTML)).text())
    other_port = f"http://127.0.0.1:{spark.server.port + 1}"
    cases = [
        ({"Sec-Fetch-Site": "same-site", "Origin": other_port}, csrf),  # another port of this host
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, csrf),
        ({"Origin": other_port}, csrf),  # an older browser: no Sec-Fetch-Site
        ({"Sec-Fetch-Site": "same-origin"}, "not the token"),
        ({"Sec-Fetch-Site": "same-origin"}, None),
    ]
    for headers, token in cases:
        form = {"text": "forged", "visibility": "public"}
        if token is not None:
            form["csrf_token"] = token
        response = await client.post(
            "/web/statuses", data=form, headers={**HTML, **headers}, allow_redirects=False
        )
        assert response.status == 403, headers
        assert "text/html" in response.headers["Content-Type"]
    assert await statuses(spark) == []
    response = await client.post(
        "/web/statuses",
        data={"text": "mine", "visibility": "public", "csrf_token": csrf},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": spark.base},
        allow_redirects=False,
    )
    assert response.status == 303
    [status] = await statuses(spark)
    assert status.text == "mine" and status.account_id == alice.id


async def test_a_signed_out_post_goes_to_sign_in(spark: Spark, client: TestClient, alice) -> None:
    response = await client.post("/web/statuses", data={"text": "x"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/auth/sign_in")
    response = await client.get("/notifications", allow_redirects=False)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/sign_in" and parse_qs(location.query) == {"next": ["/notifications"]}
    assert await statuses(spark) == []


async def test_sign_out_ends_the_session_on_the_server(spark: Spark, client: TestClient, alice) -> None:
    cookie = (await sign_in(client)).cookies["spark_session"].value
    csrf = csrf_of(await (await client.get("/", headers=HTML)).text())
    response = await client.post(
        "/auth/sign_out",
        data={"csrf_token": csrf},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert response.status == 303
    async with spark.db.read() as session:
        assert (await session.exec(select(WebSession))).all() == []
    # The old cookie, replayed, is no longer anyone's.
    replay = await client.get(
        "/settings", headers={"Cookie": f"spark_session={cookie}"}, allow_redirects=False
    )
    assert replay.status == 303 and replay.headers["Location"].startswith("/auth/sign_in")


def config_file(tmp_path: Path, spark: Spark) -> Path:
    path = tmp_path / "spark.toml"
    server = f'[server]\ndomain = "{spark.domain}"\nscheme = "http"\n'
    path.write_text(f'{server}[database]\nurl = "{spark.config.database.url}"\n')
    return path


async def run_cli(path: Path, *args: str) -> int:
    """The real command, in a thread: it runs an event loop of its own."""
    return await asyncio.to_thread(main, ["--config", str(path), *args])


async def test_password_change_signs_out_the_other_browsers(
    spark, aiohttp_client, alice, tmp_path, capsys
) -> None:
    first, second = await aiohttp_client(spark.server), await aiohttp_client(spark.server)
    await sign_in(first)
    await sign_in(second)
    path = config_file(tmp_path, spark)
    assert await run_cli(path, "sessions", "list", "alice", "--json") == 0
    listed = capsys.readouterr().out
    assert listed.count('"id"') == 2
    csrf = csrf_of(await (await first.get("/settings", headers=HTML)).text())
    response = await first.post(
        "/settings/password",
        data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": "a new long password"},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert (await first.get("/settings", allow_redirects=False)).status == 200
    assert (await second.get("/settings", allow_redirects=False)).status == 303
    # `spark-fed sessions revoke` ends the remaining one.
    async with spark.db.read() as session:
        [remaining] = (await session.exec(select(WebSession))).all()
    assert await run_cli(path, "sessions", "revoke", "alice", str(remaining.id)) == 0
    assert (await first.get("/settings", allow_redirects=False)).status == 303
    assert await run_cli(path, "sessions", "revoke", "alice", str(remaining.id)) == 2


@pytest.mark.parametrize("mode", ["closed", "open", "approval"])
async def test_registrations(start_spark, aiohttp_client, tmp_path, capsys, mode: str) -> None:
    spark = await start_spark()
    await spark.stop()
    config = spark.config.__class__(
        **{**spark.config.__dict__, "instance": InstanceConfig(registrations=mode)}
    )
    spark = await start_spark(config)
    client = await aiohttp_client(spark.server)
    page = await client.get("/auth/sign_up", headers=HTML)
    form = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    response = await client.post(
        "/auth/sign_up", data=form, headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False
    )
    if mode == "closed":
        assert page.status == 404 and response.status == 404
        assert "Create account" not in await (await client.get("/auth/sign_in")).text()
        return
    assert page.status == 200
    if mode == "open":
        assert response.status == 303 and "spark_session" in response.cookies
        return
    assert response.status == 200 and "review" in await response.text()
    refused = await sign_in(client, "carol")
    assert refused.status == 403 and "waiting for an administrator" in await refused.text()
    assert await run_cli(config_file(tmp_path, spark), "users", "approve", "carol") == 0
    assert (await sign_in(client, "carol")).status == 303
    again = await client.post("/auth/sign_up", data=form, headers={"Sec-Fetch-Site": "same-origin"})
    assert again.status == 422 and "taken" in await again.text()


async def test_pages_and_documents_share_urls(spark: Spark, client: TestClient, alice) -> None:
    page = await client.get("/@alice", headers=HTML)
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    actor = await client.get("/@alice", headers={"Accept": "application/activity+json"})
    assert (await actor.json())["id"] == f"{spark.base}/users/alice"
    redirect = await client.get("/users/alice", headers=HTML, allow_redirects=False)
    assert redirect.status == 302 and redirect.headers["Location"] == f"{spark.base}/@alice"
    from outbox.posts import post

    status = await post(spark.ctx, alice, "hello")
    note = await client.get(f"/@alice/{status.id}", headers={"Accept": "application/activity+json"})
    assert (await note.json())["id"] == status.uri
    thread = await client.get(f"/@alice/{status.id}", headers=HTML)
    assert thread.status == 200 and "hello" in await thread.text()


async def test_every_page_forbids_inline_script_and_framing(spark: Spark, client: TestClient, alice) -> None:
    for path in ("/", "/auth/sign_in", "/explore", "/@alice", "/no/such/page"):
        response = await client.get(path, headers=HTML)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "'unsafe-inline'" not in policy


async def test_errors_are_pages_for_browsers_and_json_for_programs(client: TestClient) -> None:
    page = await client.get("/@nobody", headers=HTML)
    assert page.status == 404 and "text/html" in page.headers["Content-Type"]
    html = await page.text()
    assert "<h1>Page not found</h1>" in html and 'href="/static/spark.css"' in html
    data = await client.get("/@nobody", headers={"Accept": "application/json"})
    assert data.status == 404 and await data.json() == {"error": "no such account"}
    api = await client.get("/api/v1/statuses/1", headers=HTML)
    assert api.content_type == "application/json"


async def test_hostile_names_are_escaped(spark: Spark, client: TestClient) -> None:
    await spark.user("mallory", display_name='<img src=x onerror="alert(1)">')
    html = await (await client.get("/@mallory", headers=HTML)).text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


async def test_next_cannot_leave_the_site(client: TestClient, alice) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await client.post(
            "/auth/sign_in",
            data={"username": "alice", "password": PASSWORD, "next": target},
            headers={"Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/"


async def test_unread_notifications_are_counted_until_seen(spark: Spark, client: TestClient, alice) -> None:
    from outbox.interactions import like
    from outbox.posts import post

    bob = await spark.user("bob", display_name="Bob")
    status = await post(spark.ctx, alice, "like me")
    await like(spark.ctx, bob, status.uri)
    await sign_in(client)
    home = await (await client.get("/", headers=HTML)).text()
    assert 'aria-label="1 unread"' in home
    page = await (await client.get("/notifications", headers=HTML)).text()
    assert "Bob" in page and "liked your post" in page and "like me" in page
    assert "unread" not in await (await client.get("/", headers=HTML)).text()


async def test_settings_change_the_profile(spark: Spark, client: TestClient, alice) -> None:
    await sign_in(client)
    csrf = csrf_of(await (await client.get("/settings", headers=HTML)).text())
    response = await client.post(
        "/settings/profile",
        data={"csrf_token": csrf, "display_name": "Alice A.", "bio": "line <one>", "locked": "on"},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert response.status == 303
    profile = await (await client.get("/@alice", headers=HTML)).text()
    assert "Alice A." in profile and "line &lt;one&gt;" in profile and "Locked account" in profile
    too_long = await client.post(
        "/settings/profile",
        data={"csrf_token": csrf, "display_name": "x" * 31, "bio": ""},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert too_long.status == 422


async def test_the_rules_are_on_the_about_and_sign_up_pages(start_spark, aiohttp_client) -> None:
    spark = await start_spark()
    await spark.stop()
    rules = InstanceConfig(registrations="open", rules=("Be kind.", "No spam <ever>."))
    spark = await start_spark(spark.config.__class__(**{**spark.config.__dict__, "instance": rules}))
    client = await aiohttp_client(spark.server)
    for path in ("/", "/auth/sign_up"):
        html = await (await client.get(path, headers=HTML)).text()
        assert "<li>Be kind.</li>" in html and "<li>No spam &lt;ever&gt;.</li>" in html, path
