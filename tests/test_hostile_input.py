"""Plain examples of the hostile input the route fuzzer found answered with 500, each now a 4xx.

Each case names what used to break: the fuzz suite (tests/test_fuzz_routes.py) looks for more, these
keep the ones found from coming back on either database.
"""

import asyncio
import json

import pytest
from sqlalchemy import text

from outbox import moderation, posts, safety
from spark_fed import browser_sessions
from spark_fed.queries.accounts import find_local_user
from spark_fed.tokens import create_token, parse_scopes

from . import fuzzing
from .conftest import Spark

HOSTILE_JSON = {
    "a key given twice": b'{"status":"one","status":"two"}',
    "nesting past the interpreter's stack": b"[" * 100_000 + b"]" * 100_000,
    "nesting past the reader's limit": b'{"status":"x","a":' + b"[" * 100 + b"]" * 100 + b"}",
    "a number of 5,000 digits": b'{"status":"x","limit":' + b"9" * 5000 + b"}",
    "a number past float range": b'{"status":"x","limit":1e999}',
    "NaN": b'{"status":"x","limit":NaN}',
    "a lone surrogate": b'{"status":"\\ud800"}',
    "a lone surrogate in a key": b'{"status":"x","\\udfff":1}',
    "NUL deep inside": b'{"status":"x","poll":{"options":["a\\u0000"]}}',
    "invalid UTF-8": b'{"status":"\xff\xfe"}',
}


def _one_line(body: bytes) -> str:
    message = json.loads(body)["error"]
    assert message and "\n" not in message
    return message


async def _count(spark: Spark, table: str) -> int:
    async with spark.db.read() as session:
        connection = await session.connection()
        return (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
async def test_hostile_json_to_the_api_is_400_and_stores_nothing(spark: Spark, aiohttp_client, body) -> None:
    alice = await spark.user("alice")
    token = await create_token(spark.db, alice, parse_scopes("read write"))
    client = await aiohttp_client(spark.server)
    before = await _count(spark, "statuses")
    resp = await client.post(
        "/api/v1/statuses",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert resp.status == 400, await resp.text()
    _one_line(await resp.read())
    assert await _count(spark, "statuses") == before


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
async def test_hostile_json_to_the_inbox_is_400_and_stores_nothing(spark: Spark, aiohttp_client, body):
    await spark.user("alice")
    client = await aiohttp_client(spark.server)
    for path in ("/inbox", "/users/alice/inbox"):
        resp = await client.post(path, data=body, headers={"Content-Type": "application/activity+json"})
        assert resp.status == 400, await resp.text()
        _one_line(await resp.read())
    assert await _count(spark, "inbox_items") == 0


async def test_a_body_that_does_not_decode_as_its_content_encoding_is_400(spark: Spark, aiohttp_client):
    """aiohttp raises its own RequestPayloadError when a `gzip` body is not gzip: the client's fault."""
    client = await aiohttp_client(spark.server)
    for path, content_type in (
        ("/inbox", "application/activity+json"),
        ("/oauth/token", "application/json"),
        ("/auth/sign_in", "application/x-www-form-urlencoded"),
    ):
        resp = await client.post(
            path,
            data=b'{"type":"Follow"}',
            headers={"Content-Type": content_type, "Content-Encoding": "gzip", "Accept": "application/json"},
        )
        assert resp.status == 400, (path, resp.status, await resp.text())
        assert _one_line(await resp.read()) == "the request body cannot be read"


async def test_unreadable_forms_are_400_and_change_nothing(spark: Spark, aiohttp_client) -> None:
    """A multipart body without a boundary made `request.post()` raise ValueError in every web form."""
    headers, csrf = await _signed_in_admin(spark)
    client = await aiohttp_client(spark.server)
    before = await _count(spark, "filters")
    for content_type, body in (
        ("multipart/form-data", f"csrf_token={csrf}&phrase=x".encode()),
        ("application/x-www-form-urlencoded", f"csrf_token={csrf}&phrase=a%00b".encode()),
    ):
        for path in ("/settings/filters", "/auth/sign_in", "/web/domains/block"):
            resp = await client.post(
                path,
                data=body,
                headers={**headers, "Content-Type": content_type, "Accept": "application/json"},
            )
            assert resp.status == 400, (path, content_type, await resp.text())
            _one_line(await resp.read())
    assert await _count(spark, "filters") == before


async def test_a_multipart_part_whose_headers_do_not_parse_is_400(spark: Spark, aiohttp_client) -> None:
    """aiohttp's BadHttpMessage from a part's header line (a control character in its name) was a 500,
    in forms read whole and in uploads read as a stream alike."""
    headers, csrf = await _signed_in_admin(spark)
    bob = await spark.user("bob")
    token = await create_token(spark.db, bob, parse_scopes("read write"))
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="\x1f"\r\n\r\nx\r\n--{boundary}--\r\n'
    ).encode()
    client = await aiohttp_client(spark.server)
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"}
    for path, credentials in (
        ("/api/v1/markers", {"Authorization": f"Bearer {token}"}),
        ("/api/v2/media", {"Authorization": f"Bearer {token}"}),
        ("/settings/profile", headers),
        ("/web/domains/block", headers),
    ):
        resp = await client.post(path, data=body, headers={**credentials, **multipart})
        assert resp.status == 400, (path, await resp.text())
        _one_line(await resp.read())


async def test_bodies_over_the_cap_are_413_and_store_nothing(spark: Spark, aiohttp_client) -> None:
    headers, csrf = await _signed_in_admin(spark)
    token = await create_token(spark.db, (await spark.user("bob")), parse_scopes("read write"))
    client = await aiohttp_client(spark.server)
    before = await _count(spark, "statuses")
    big = "x" * (spark.config.federation.max_body_bytes + 1)
    for path, content_type, credentials, body in (
        (
            "/api/v1/statuses",
            "application/json",
            {"Authorization": f"Bearer {token}"},
            f'{{"status":"{big}"}}',
        ),
        ("/web/statuses", "application/x-www-form-urlencoded", headers, f"csrf_token={csrf}&text={big}"),
        ("/inbox", "application/activity+json", {}, f'{{"type":"Note","actor":"{big}"}}'),
    ):
        resp = await client.post(
            path,
            data=body.encode(),
            headers={**credentials, "Content-Type": content_type, "Accept": "application/json"},
        )
        assert resp.status == 413, (path, resp.status)
        _one_line(await resp.read())
    assert await _count(spark, "statuses") == before


async def test_credentials_that_are_not_utf8_are_nobodys(spark: Spark) -> None:
    """A cookie or bearer token of raw bytes (0xff) reached the token digest as a surrogate: 500."""
    await spark.user("alice")
    host, port = "127.0.0.1", spark.config.server.port
    for path, headers, status in (
        ("/notifications", {"Cookie": "spark_session=\xff"}, 303),  # to the sign-in page
        ("/api/v1/accounts/verify_credentials", {"Authorization": "Bearer \xff\xfe"}, 401),
    ):
        answer = await asyncio.to_thread(
            fuzzing.send, host, port, "GET", path, {**headers, "Accept": "application/json"}, None
        )
        assert answer.status == status, (path, answer)


async def test_an_action_refused_by_the_shared_outbox_is_422_on_the_web(spark: Spark, aiohttp_client) -> None:
    """Following an account one has blocked raised UsageError through the web form's handler: 500."""
    headers, csrf = await _signed_in_admin(spark)
    bob = await spark.user("bob")
    async with spark.db.read() as session:
        alice = await find_local_user(session, "alice")
    assert alice is not None
    await safety.block(spark.ctx, alice, bob.uri)
    client = await aiohttp_client(spark.server)
    resp = await client.post(
        f"/web/accounts/{bob.id}/follow",
        data={"csrf_token": csrf},
        headers={**headers, "Accept": "application/json"},
    )
    assert resp.status == 422, await resp.text()
    assert "block" in _one_line(await resp.read())


# Spellings `str.isdigit` accepts or numbers past a column's width; each used to reach `int()` or the
# database. "9999999999" fits no 32-bit key (accounts, sessions, reports, imports, filters).
ODD_IDS = ["²", "١٢٣", "１２", "9999999999", str(2**63), "9" * 19, "-1", "0x10"]


async def _signed_in_admin(spark: Spark) -> tuple[dict[str, str], str]:
    alice = await spark.user("alice")
    await moderation.set_role(spark.ctx, alice, "admin")
    await posts.post(spark.ctx, alice, "hello")
    cookie = await browser_sessions.start(spark.db, alice, user_agent="test", address="127.0.0.1")
    found = await browser_sessions.find(spark.db, cookie)
    assert found is not None
    headers = {"Cookie": f"spark_session={cookie}", "Origin": spark.base, "Sec-Fetch-Site": "same-origin"}
    return headers, found.session.csrf_token


@pytest.mark.parametrize("odd", ODD_IDS)
async def test_odd_ids_in_paths_name_nothing(spark: Spark, aiohttp_client, odd: str) -> None:
    headers, csrf = await _signed_in_admin(spark)
    client = await aiohttp_client(spark.server)
    json_headers = {**headers, "Accept": "application/json"}
    for path in (
        "/web/avatars/{}.svg",
        "/api/v1/statuses/{}",
        "/api/v1/accounts/{}",
        "/users/alice/statuses/{}",
        "/@alice/{}",
        "/media/{}/original",
        "/settings/import/{}",
        "/admin/reports/{}",
        "/web/accounts/{}/report",
    ):
        resp = await client.get(path.format(odd), headers=json_headers)
        assert resp.status == 404, (path, await resp.text())
    for path in (
        "/settings/sessions/{}/end",
        "/settings/filters/{}/delete",
        "/admin/reports/{}/resolve",
        "/admin/accounts/{}/silence",
        "/web/accounts/{}/follow",
        "/web/statuses/{}/like",
    ):
        resp = await client.post(path.format(odd), data={"csrf_token": csrf}, headers=json_headers)
        assert resp.status == 404, (path, await resp.text())
        _one_line(await resp.read())
