"""Fetches many callers share (keys, remote media) end for every one of them, however they end.

The remote side is a small aiohttp server on loopback that misbehaves on demand: it answers
late or never, resets the connection, answers 500, or serves garbage. The database write after
a fetch fails for real, refused by a trigger the test installs. Each test starts several callers
at once, bounds their wait, and then shows that a later call fetches again.
"""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from spark_fed.db import Database
from spark_fed.federation.actors import ActorNotFound, RemoteActors
from spark_fed.federation.keys import KeyNotFound, KeyStore
from spark_fed.federation.notes import NoteRejected
from spark_fed.media.service import MediaService
from spark_fed.models import MediaAttachment
from spark_fed.models.media import FetchState, MediaKind

from .conftest import eventually
from .peers.cavage import digest_header, http_date, sign

WAITERS = 6
BOUND = 10.0
AS2 = "https://www.w3.org/ns/activitystreams"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Remote:
    """A peer that answers as `mode` says and counts the fetches it saw.

    aiohttp retries an idempotent request once when the connection closes before any answer
    (RFC 9112 §9.3.1), so one fetch of "reset" reaches the peer twice: that counts as one.
    """

    base: str = ""
    mode: str = "ok"
    hits: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def actor(self, name: str) -> dict:
        uri = f"{self.base}/users/{name}"
        return {
            "@context": [AS2, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{uri}/inbox",
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": PEM},
        }

    _reset_attempts: int = 0

    def note(self, name: str) -> dict:
        return {
            "@context": AS2,
            "id": f"{self.base}/notes/{name}",
            "type": "Note",
            "attributedTo": f"{self.base}/users/{name}",
            "content": "<p>hello</p>",
            "to": [f"{AS2}#Public"],
            "published": "2026-01-01T00:00:00Z",
        }

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "reset":
            self._reset_attempts += 1
            self.hits += self._reset_attempts % 2
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        self.hits += 1
        if self.mode == "slow":
            await self.release.wait()
        if self.mode == "500":
            return web.json_response({"error": "down"}, status=500)
        if self.mode == "not json":
            return web.Response(body=b"<html>hello", content_type="application/activity+json")
        if self.mode == "wrong shape":
            return web.json_response([1, 2, 3], content_type="application/activity+json")
        if request.path.startswith("/media/"):
            return web.Response(body=_png(), content_type="image/png")
        if request.path.startswith("/notes/"):
            return web.json_response(
                self.note(request.match_info["name"]), content_type="application/activity+json"
            )
        if request.path == "/.well-known/webfinger":
            name = request.query["resource"].removeprefix("acct:").partition("@")[0]
            link = {"rel": "self", "type": "application/activity+json", "href": f"{self.base}/users/{name}"}
            return web.json_response({"subject": request.query["resource"], "links": [link]})
        return web.json_response(
            self.actor(request.match_info["name"]), content_type="application/activity+json"
        )


@pytest.fixture
async def remote(aiohttp_server) -> AsyncIterator[Remote]:
    peer = Remote()
    app = web.Application()
    app.router.add_get("/users/{name}", peer.serve)
    app.router.add_get("/media/{name}", peer.serve)
    app.router.add_get("/.well-known/webfinger", peer.serve)
    app.router.add_get("/notes/{name}", peer.serve)
    server = await aiohttp_server(app)
    peer.base = str(server.make_url("")).rstrip("/")
    yield peer
    peer.release.set()  # a handler held by "slow" ends before the server closes


async def _all(calls: list) -> list:
    """Every call's outcome (result or exception), failing the test if any is still waiting at BOUND."""
    async with asyncio.timeout(BOUND):
        return await asyncio.gather(*calls, return_exceptions=True)


async def _refuse_writes(db: Database, table: str, event: str, condition: str) -> None:
    """A trigger that makes the database refuse such writes: a real failure, not a stand-in."""
    async with db.write() as session:
        if db.is_sqlite:
            await session.exec(
                text(
                    f"CREATE TRIGGER refuse BEFORE {event} ON {table} WHEN {condition} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            await session.exec(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            await session.exec(
                text(
                    f"CREATE TRIGGER refuse BEFORE {event} ON {table} FOR EACH ROW "
                    f"WHEN ({condition}) EXECUTE FUNCTION refuse()"
                )
            )


async def _allow_writes(db: Database, table: str) -> None:
    async with db.write() as session:
        await session.exec(text("DROP TRIGGER refuse" if db.is_sqlite else f"DROP TRIGGER refuse ON {table}"))


# --- keys ------------------------------------------------------------------------------------


FORGET_AFTER = 0.5


def _keys(spark, **kwargs: float) -> KeyStore:
    """A key store of this instance that forgets failures after half a second, not five minutes.

    Remembering them at all is what keeps a caller that arrives just after a failure from
    fetching again; forgetting them soon lets the test show that a later call does.
    """
    return KeyStore(spark.ctx.actors, **{"failure_seconds": FORGET_AFTER, **kwargs})


async def _found_later(keys: KeyStore, key_id: str):
    """The key, once the failure is forgotten and a new fetch succeeds."""

    async def attempt():
        try:
            return await keys.get(key_id)
        except KeyNotFound:
            return None

    return await eventually(attempt, timeout=BOUND, what="a later fetch of the key")


@pytest.mark.parametrize("mode", ["reset", "500", "not json", "wrong shape"])
async def test_a_failing_key_fetch_fails_every_waiter_once_and_a_later_call_fetches_again(
    spark, remote: Remote, mode: str
) -> None:
    keys = _keys(spark)
    key_id = remote.actor("ann")["publicKey"]["id"]
    remote.mode = mode
    outcomes = await _all([keys.get(key_id) for _ in range(WAITERS)])
    assert all(isinstance(outcome, KeyNotFound) for outcome in outcomes), outcomes
    assert remote.hits == 1
    remote.mode = "ok"
    found = await _found_later(keys, key_id)
    assert found.actor.uri == f"{remote.base}/users/ann" and remote.hits == 2


async def test_a_slow_key_fetch_ends_for_every_waiter_at_its_bound(spark, remote: Remote) -> None:
    keys = _keys(spark, fetch_seconds=0.5)
    key_id = remote.actor("slow")["publicKey"]["id"]
    remote.mode = "slow"
    outcomes = await _all([keys.get(key_id) for _ in range(WAITERS)])
    assert all(isinstance(outcome, KeyNotFound) and "too long" in str(outcome) for outcome in outcomes)
    assert remote.hits == 1
    remote.mode = "ok"
    assert (await _found_later(keys, key_id)).actor.username == "slow"
    assert remote.hits == 2


async def test_a_remembered_failure_answers_at_once_without_a_fetch(spark, remote: Remote) -> None:
    keys = KeyStore(spark.ctx.actors)  # failures remembered for the default five minutes
    key_id = remote.actor("gone")["publicKey"]["id"]
    remote.mode = "500"
    await _all([keys.get(key_id) for _ in range(WAITERS)])
    remote.mode = "ok"
    with pytest.raises(KeyNotFound, match="answered 500"):
        await asyncio.wait_for(keys.get(key_id), BOUND)
    assert remote.hits == 1


async def test_a_failed_write_after_the_key_fetch_reaches_every_waiter(spark, remote: Remote) -> None:
    keys = _keys(spark)
    key_id = remote.actor("refused")["publicKey"]["id"]
    await _refuse_writes(spark.db, "accounts", "INSERT", "NEW.username = 'refused'")
    outcomes = await _all([keys.get(key_id) for _ in range(WAITERS)])
    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes), outcomes
    fetched = remote.hits
    await _allow_writes(spark.db, "accounts")
    # A local failure is not held against the key: the next request fetches it again at once.
    assert (await asyncio.wait_for(keys.get(key_id), BOUND)).actor.username == "refused"
    assert remote.hits == fetched + 1


async def test_a_cancelled_first_request_leaves_the_others_their_key(spark, remote: Remote) -> None:
    keys = _keys(spark)
    key_id = remote.actor("bea")["publicKey"]["id"]
    remote.mode = "slow"
    first = asyncio.create_task(keys.get(key_id))
    async with asyncio.timeout(BOUND):
        while remote.hits == 0:
            await asyncio.sleep(0.01)
    others = [asyncio.create_task(keys.get(key_id)) for _ in range(WAITERS - 1)]
    first.cancel()
    remote.mode = "ok"
    remote.release.set()
    outcomes = await _all(others)
    assert [outcome.actor.username for outcome in outcomes] == ["bea"] * (WAITERS - 1)
    assert first.cancelled() and remote.hits == 1


async def _burst(spark, remote: Remote, name: str) -> list[int]:
    """WAITERS activities POSTed at once to the inbox, signed (as Mastodon signs) with NAME's key."""
    actor = remote.actor(name)

    async def deliver(browser: aiohttp.ClientSession, number: int) -> int:
        activity = {
            "@context": AS2,
            "id": f"{actor['id']}/likes/{number}",
            "type": "Like",
            "actor": actor["id"],
        }
        body = json.dumps({**activity, "object": "https://elsewhere.example/notes/1"}).encode()
        covered = [("host", spark.domain), ("date", http_date()), ("digest", digest_header(body))]
        headers = {name.title(): value for name, value in covered}
        headers["Signature"] = sign(KEY, actor["publicKey"]["id"], "POST", "/inbox", covered)
        headers["Content-Type"] = "application/activity+json"
        async with browser.post(spark.server.make_url("/inbox"), data=body, headers=headers) as response:
            return response.status

    async with aiohttp.ClientSession() as browser:
        return await _all([deliver(browser, number) for number in range(WAITERS)])


async def test_a_burst_signed_with_an_unreachable_key_is_answered_in_full(spark, remote: Remote) -> None:
    remote.mode = "500"
    assert await _burst(spark, remote, "flood") == [401] * WAITERS
    assert remote.hits == 1  # the one fetch, then its failure remembered


async def test_a_burst_whose_signer_cannot_be_stored_is_answered_in_full(spark, remote: Remote) -> None:
    await _refuse_writes(spark.db, "accounts", "INSERT", "NEW.username = 'stuck'")
    assert await _burst(spark, remote, "stuck") == [500] * WAITERS  # the database failed, not the sender
    await _allow_writes(spark.db, "accounts")
    assert await _burst(spark, remote, "stuck") == [202] * WAITERS


# --- actors and WebFinger -----------------------------------------------------------------
# Called directly (not through `get`, which reads the database first) so that every caller
# joins the one fetch: nothing is remembered of a failed actor fetch, a latecomer would fetch.


@pytest.mark.parametrize("mode", ["reset", "500", "not json", "wrong shape"])
async def test_a_failing_actor_fetch_fails_every_waiter_once_and_a_later_call_fetches_again(
    spark, remote: Remote, mode: str
) -> None:
    uri = remote.actor("cy")["id"]
    remote.mode = mode
    outcomes = await _all([spark.ctx.actors.fetch(uri) for _ in range(WAITERS)])
    assert all(isinstance(outcome, ActorNotFound) for outcome in outcomes), outcomes
    assert remote.hits == 1
    remote.mode = "ok"
    assert (await asyncio.wait_for(spark.ctx.actors.fetch(uri), BOUND)).uri == uri and remote.hits == 2


@pytest.mark.parametrize("mode", ["reset", "500", "not json", "wrong shape"])
async def test_a_failing_webfinger_fails_every_waiter_once_and_a_later_call_asks_again(
    spark, remote: Remote, mode: str
) -> None:
    host = remote.base.removeprefix("http://")
    remote.mode = mode
    outcomes = await _all([spark.ctx.actors.webfinger("dee", host) for _ in range(WAITERS)])
    assert all(isinstance(outcome, ActorNotFound) for outcome in outcomes), outcomes
    assert remote.hits == 1
    remote.mode = "ok"
    found = await asyncio.wait_for(spark.ctx.actors.webfinger("dee", host), BOUND)
    assert found == f"{remote.base}/users/dee" and remote.hits == 2


async def test_a_slow_actor_fetch_ends_for_every_waiter_at_its_bound(spark, remote: Remote) -> None:
    ctx = spark.ctx
    actors = RemoteActors(ctx.db, ctx.signed, ctx.config, ctx.actors.signer, fetch_seconds=0.5)
    uri = remote.actor("slowpoke")["id"]
    host = remote.base.removeprefix("http://")
    remote.mode = "slow"
    calls = [actors.fetch(uri) for _ in range(WAITERS)] + [
        actors.webfinger("slowpoke", host) for _ in range(WAITERS)
    ]
    outcomes = await _all(calls)
    assert all(isinstance(outcome, ActorNotFound) and "too long" in str(outcome) for outcome in outcomes)
    assert remote.hits == 2  # one fetch, one lookup
    remote.mode = "ok"
    assert (await asyncio.wait_for(actors.fetch(uri), BOUND)).username == "slowpoke" and remote.hits == 3


async def test_a_failed_write_after_the_actor_fetch_reaches_every_waiter(spark, remote: Remote) -> None:
    uri = remote.actor("blocked")["id"]
    await _refuse_writes(spark.db, "accounts", "INSERT", "NEW.username = 'blocked'")
    outcomes = await _all([spark.ctx.actors.fetch(uri) for _ in range(WAITERS)])
    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes), outcomes
    assert remote.hits == 1
    await _allow_writes(spark.db, "accounts")
    assert (await asyncio.wait_for(spark.ctx.actors.fetch(uri), BOUND)).uri == uri and remote.hits == 2


# --- notes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reset", "500", "not json", "wrong shape"])
async def test_a_failing_note_fetch_fails_every_waiter_once_and_a_later_call_fetches_again(
    spark, remote: Remote, mode: str
) -> None:
    uri = remote.note("eve")["id"]
    remote.mode = mode
    # Each caller reads the database before it joins the fetch: a late one may fetch anew.
    outcomes = await _all([spark.ctx.notes.get(uri) for _ in range(WAITERS)])
    assert all(isinstance(outcome, NoteRejected) for outcome in outcomes), outcomes
    remote.mode = "ok"
    fetched = remote.hits
    assert (await asyncio.wait_for(spark.ctx.notes.get(uri), BOUND)).uri == uri
    assert remote.hits == fetched + 2  # the note and its author


async def test_a_failed_write_after_the_note_fetch_reaches_every_waiter(spark, remote: Remote) -> None:
    uri = remote.note("fay")["id"]
    await spark.ctx.actors.fetch(remote.actor("fay")["id"])
    await _refuse_writes(spark.db, "statuses", "INSERT", "NEW.uri LIKE '%/notes/fay'")
    outcomes = await _all([spark.ctx.notes.get(uri) for _ in range(WAITERS)])
    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes), outcomes
    await _allow_writes(spark.db, "statuses")
    assert (await asyncio.wait_for(spark.ctx.notes.get(uri), BOUND)).uri == uri


# --- remote media ----------------------------------------------------------------------------


async def _remote_image(spark, remote: Remote, name: str) -> int:
    account = await spark.ctx.actors.store(remote.actor(name))
    row = MediaAttachment(
        account_id=account.id,
        kind=MediaKind.ATTACHMENT,
        local=False,
        remote_url=f"{remote.base}/media/{name}.png",
        fetch_state=FetchState.PENDING,
    )
    async with spark.db.write() as session:
        session.add(row)
    return row.id


async def _get_all(spark, media_id: int) -> list[int]:
    """The statuses of WAITERS readers asking for the image at once, over HTTP."""
    url = spark.server.make_url(f"/media/{media_id}/original")

    async def one(browser: aiohttp.ClientSession) -> int:
        async with browser.get(url) as response:
            await response.read()
            return response.status

    async with aiohttp.ClientSession() as browser:
        return await _all([one(browser) for _ in range(WAITERS)])


@pytest.mark.parametrize("mode", ["reset", "500", "not json"])
async def test_a_failing_remote_image_answers_every_reader_and_is_fetched_again_on_demand(
    spark, remote: Remote, mode: str
) -> None:
    media_id = await _remote_image(spark, remote, "pic")
    remote.mode = mode
    assert await _get_all(spark, media_id) == [404] * WAITERS
    assert remote.hits == 1
    remote.mode = "ok"
    stored = await asyncio.wait_for(spark.ctx.media.fetch_remote(media_id), BOUND)
    assert stored is not None and stored.fetch_state == FetchState.STORED and remote.hits == 2


async def test_a_slow_remote_image_ends_for_every_reader_at_its_bound(spark, remote: Remote) -> None:
    media_id = await _remote_image(spark, remote, "slowpic")
    media = spark.ctx.media
    service = MediaService(spark.db, media.store, media.config, media.http, fetch_seconds=0.5)
    remote.mode = "slow"
    assert await _all([service.fetch_remote(media_id) for _ in range(WAITERS)]) == [None] * WAITERS
    assert remote.hits == 1
    remote.mode = "ok"
    assert (await asyncio.wait_for(service.fetch_remote(media_id), BOUND)) is not None
    assert remote.hits == 2


async def test_a_failed_write_after_the_image_fetch_reaches_every_reader(spark, remote: Remote) -> None:
    media_id = await _remote_image(spark, remote, "nowrite")
    await _refuse_writes(spark.db, "media_attachments", "UPDATE", "NEW.fetch_state = 'stored'")
    # Asked of the service directly, all at once, they share one fetch (a reader over HTTP reads
    # the row first, and may come after a quick failure: nothing is marked, so it fetches anew).
    outcomes = await _all([spark.ctx.media.fetch_remote(media_id) for _ in range(WAITERS)])
    assert all(isinstance(outcome, DBAPIError) for outcome in outcomes), outcomes
    assert remote.hits == 1
    assert set(await _get_all(spark, media_id)) == {500}
    await _allow_writes(spark.db, "media_attachments")
    fetched = remote.hits
    assert await _get_all(spark, media_id) == [200] * WAITERS
    assert remote.hits == fetched + 1
