"""Hostile and broken inbox requests: each refused with the right status, nothing stored."""

import base64
import json
from datetime import UTC, datetime

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from sqlalchemy import func
from sqlmodel import select

from spark_fed.models import Account, Follow, InboxItem

from .conftest import Spark, eventually
from .peers import FakeMastodon


@pytest.fixture
async def peer(aiohttp_server) -> FakeMastodon:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    return peer


async def _stored(spark: Spark) -> tuple[int, int]:
    async with spark.db.read() as session:
        items = (await session.exec(select(func.count()).select_from(InboxItem))).one()
        follows = (await session.exec(select(func.count()).select_from(Follow))).one()
    return items, follows


def _one_line_error(body: bytes) -> str:
    message = json.loads(body)["error"]
    assert isinstance(message, str) and message and "\n" not in message
    return message


async def test_valid_follow_is_stored_once_even_when_redelivered(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    follow = peer.follow("bob", alice.uri)
    for _ in range(2):
        assert (await peer.send(follow, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    assert (await _stored(spark))[0] == 1
    await peer.wait_until(lambda: any(r.type == "Accept" for r in peer.inbox_log))
    await peer.drain()
    assert len([r for r in peer.inbox_log if r.type == "Accept"]) == 1


async def test_unsigned_post(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", signed=False)
    assert sent.status == 401
    assert _one_line_error(sent.body) == "Request not signed"
    assert await _stored(spark) == (0, 0)


async def test_wrong_key(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", sign_with=other)
    assert sent.status == 401
    assert "Verification failed" in _one_line_error(sent.body)
    assert await _stored(spark) == (0, 0)


async def test_tampered_body(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")

    def swap_target(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        return headers, body.replace(b"/users/alice", b"/users/alicf")

    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", tamper=swap_target)
    assert sent.status == 401
    assert "digest" in _one_line_error(sent.body).lower()
    assert await _stored(spark) == (0, 0)


@pytest.mark.parametrize("skew_minutes", [-70, 61])
async def test_date_outside_the_window(spark: Spark, peer: FakeMastodon, skew_minutes: int) -> None:
    alice = await spark.user("alice")
    peer.clock_skew = skew_minutes * 60.0
    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob")
    assert sent.status == 401
    assert "time window" in _one_line_error(sent.body)
    assert await _stored(spark) == (0, 0)


async def test_actor_is_not_the_key_owner(spark: Spark, peer: FakeMastodon) -> None:
    """Signed by bob, claiming to be carol: 202 (a forwarder must not retry for days), dropped."""
    alice = await spark.user("alice")
    sent = await peer.send(peer.follow("carol", alice.uri), f"{spark.base}/inbox", "bob")
    assert sent.status == 202
    assert await _stored(spark) == (0, 0)


async def test_oversize_body(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    follow = peer.follow("bob", alice.uri)
    follow["padding"] = "x" * (1024 * 1024 + 1)
    sent = await peer.send(follow, f"{spark.base}/inbox", "bob")
    assert sent.status == 413
    assert await _stored(spark) == (0, 0)


@pytest.mark.parametrize(
    ("body", "status"), [(b"{not json", 400), (b"[1, 2]", 400), (b'{"type": "Follow"}', 400)]
)
async def test_malformed_bodies(spark: Spark, peer: FakeMastodon, body: bytes, status: int) -> None:
    alice = await spark.user("alice")

    def replace(headers: dict[str, str], _body: bytes) -> tuple[dict[str, str], bytes]:
        return headers, body

    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", tamper=replace)
    assert sent.status == status
    _one_line_error(sent.body)
    assert await _stored(spark) == (0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type(spark: Spark, peer: FakeMastodon, content_type: str | None) -> None:
    alice = await spark.user("alice")

    def retype(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if content_type:
            headers["Content-Type"] = content_type
        return headers, body

    sent = await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", tamper=retype)
    assert sent.status == 415
    assert await _stored(spark) == (0, 0)


async def test_unknown_recipient(spark: Spark, peer: FakeMastodon) -> None:
    sent = await peer.send(
        peer.follow("bob", f"{spark.base}/users/nobody"), f"{spark.base}/users/nobody/inbox", "bob"
    )
    assert sent.status == 404
    assert await _stored(spark) == (0, 0)


async def test_unknown_actor_deleting_itself_costs_no_fetch(spark: Spark, peer: FakeMastodon) -> None:
    actor = peer.actor_id("carol")
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}#delete",
        "type": "Delete",
        "actor": actor,
        "object": actor,
    }
    sent = await peer.send(delete, f"{spark.base}/inbox", "carol")
    assert sent.status == 202
    assert peer.fetch_log == []
    assert await _stored(spark) == (0, 0)


async def test_key_rotation_is_picked_up_by_one_refetch(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    assert (await peer.send(peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob")).status == 202
    peer.accounts["bob"].key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    undo = peer.undo_follow("bob", alice.uri)
    assert (await peer.send(undo, f"{spark.base}/inbox", "bob")).status == 202

    async def unfollowed() -> bool:
        return (await _stored(spark))[1] == 0

    await eventually(unfollowed, what="the Undo signed with the new key to be processed")


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> rsa.RSAPrivateKey:
        return self.key

    def resolve_public_key(self, key_id: str):
        return self.key.public_key()


async def test_rfc9421_signed_post_from_another_implementation(spark: Spark, peer: FakeMastodon) -> None:
    """Signed by http-message-signatures itself, as a Fedify-based server or Mastodon 4.5+ would."""
    alice = await spark.user("alice")
    follow = peer.follow("bob", alice.uri)
    body = json.dumps(follow).encode()
    url = f"{spark.base}/users/alice/inbox"
    request = _Message("POST", url, {"Content-Type": "application/activity+json"})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_OneKey(peer.accounts["bob"].key)
    )
    signer.sign(
        request,
        key_id=peer.key_id("bob"),
        created=datetime.now(UTC),
        include_alg=False,
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        body=body,
    )
    assert request.headers["Content-Digest"].startswith("sha-256=:")
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=request.headers) as resp,
    ):
        assert resp.status == 202, await resp.text()

    async def followed() -> bool:
        return (await _stored(spark))[1] == 1

    await eventually(followed, what="the RFC 9421-signed Follow to be processed")
    tampered = dict(
        request.headers, **{"Content-Digest": "sha-256=:" + base64.b64encode(b"x" * 32).decode() + ":"}
    )
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=tampered) as resp:
        assert resp.status == 401


class _Message:
    """The request shape http-message-signatures signs (method, url, headers)."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


async def test_a_local_keyid_never_makes_spark_refetch_its_own_actor(
    spark: Spark, peer: FakeMastodon
) -> None:
    """A bad signature claiming alice's key must not overwrite alice with 'remote' data."""
    alice = await spark.user("alice")

    def claim_alice(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        headers["Signature"] = headers["Signature"].replace(peer.key_id("bob"), alice.public_key_id)
        return headers, body

    for _ in range(2):
        sent = await peer.send(
            peer.follow("bob", alice.uri), f"{spark.base}/inbox", "bob", tamper=claim_alice
        )
        assert sent.status == 401
    async with spark.db.read() as session:
        stored = await session.get(Account, alice.id)
    assert stored.is_local and stored.private_key_pem == alice.private_key_pem
    assert await _stored(spark) == (0, 0)


async def test_another_server_reusing_an_activity_id_does_not_shadow_it(
    spark: Spark, peer: FakeMastodon, aiohttp_server
) -> None:
    alice = await spark.user("alice")
    mallory = FakeMastodon("mallory")
    await mallory.start(aiohttp_server)
    honest = peer.follow("bob", alice.uri)
    forged = mallory.follow("mallory", alice.uri)
    forged["id"] = honest["id"]
    assert (await mallory.send(forged, f"{spark.base}/inbox", "mallory")).status == 202
    assert (await peer.send(honest, f"{spark.base}/inbox", "bob")).status == 202

    async def both_follow() -> bool:
        return (await _stored(spark))[1] == 2

    await eventually(both_follow, what="bob's Follow to be processed despite the reused id")
