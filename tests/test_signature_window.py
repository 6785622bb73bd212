"""What limits a signature's life, and how long the inbox remembers a request, over real HTTP.

The requests are signed here with `cryptography` alone, the signing string written out by hand,
so a mistake shared with Spark's own signer cannot hide. The signer's actor is served by a peer
on loopback, from which Spark fetches the key as it would from any server.
"""

import base64
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import col, select, update

from inbox.routes import REDELIVERY_MEMORY
from spark_fed.models import InboxItem
from spark_fed.models.types import utcnow
from spark_fed.queue import jobs
from spark_fed.signatures import REPLAY_WINDOW

from .conftest import Spark

AS2 = "https://www.w3.org/ns/activitystreams"
HOUR = 3600
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Peer:
    """One actor on a loopback server, and requests signed with its key."""

    def __init__(self, base: str) -> None:
        self.uri = f"{base}/users/mallory"
        self.key_id = f"{self.uri}#main-key"

    def document(self) -> dict:
        pem = KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "@context": [AS2, "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": "mallory",
            "inbox": f"{self.uri}/inbox",
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": pem.decode()},
        }

    def activity(self) -> bytes:
        return json.dumps(
            {
                "@context": AS2,
                "id": f"{self.uri}/likes/{uuid.uuid4().hex}",
                "type": "Like",
                "actor": self.uri,
                "object": "https://elsewhere.example/notes/1",
            }
        ).encode()

    def signed(
        self,
        host: str,
        body: bytes,
        covered: list[str],
        *,
        date: float | None = None,
        params: dict[str, int] | None = None,
    ) -> dict[str, str]:
        """Headers of a POST to /inbox signing COVERED (in that order), with PARAMS beside them."""
        headers = {
            "Host": host,
            "Content-Type": "application/activity+json",
            "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
        }
        if date is not None:
            headers["Date"] = formatdate(date, usegmt=True)
        params = params or {}
        lower = {name.lower(): value for name, value in headers.items()}
        lines = []
        for name in covered:
            if name == "(request-target)":
                lines.append("(request-target): post /inbox")
            elif name in ("(created)", "(expires)"):
                lines.append(f"{name}: {params[name[1:-1]]}")
            else:
                lines.append(f"{name}: {lower[name]}")
        signature = KEY.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        fields = [f'keyId="{self.key_id}"', 'algorithm="hs2019"']
        fields += [f'{name}="{value}"' for name, value in params.items()]
        fields += [f'headers="{" ".join(covered)}"', f'signature="{base64.b64encode(signature).decode()}"']
        headers["Signature"] = ",".join(fields)
        return headers


@pytest.fixture
async def peer(aiohttp_server) -> AsyncIterator[Peer]:
    holder: list[Peer] = []

    async def actor(request: web.Request) -> web.Response:
        return web.json_response(holder[0].document(), content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/users/mallory", actor)
    server = await aiohttp_server(app)
    holder.append(Peer(str(server.make_url("")).rstrip("/")))
    yield holder[0]


async def _post(spark: Spark, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as client,
        client.post(spark.server.make_url("/inbox"), data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


SIGNED_DATE = ["(request-target)", "host", "date", "digest"]
SIGNED_CREATED = ["(request-target)", "host", "(created)", "digest"]


async def test_an_unsigned_created_does_not_freshen_a_stale_date(spark: Spark, peer: Peer) -> None:
    body, now = peer.activity(), time.time()
    headers = peer.signed(spark.domain, body, SIGNED_DATE, date=now - 3 * HOUR, params={"created": int(now)})
    status, text = await _post(spark, headers, body)
    assert status == 401 and "outside acceptable time window" in text
    fresh = peer.signed(spark.domain, body, SIGNED_DATE, date=now, params={"created": int(now) - 3 * HOUR})
    assert (await _post(spark, fresh, body))[0] == 202  # and an unsigned stale one spoils nothing


async def test_a_signed_fresh_created_needs_no_date(spark: Spark, peer: Peer) -> None:
    body = peer.activity()
    headers = peer.signed(spark.domain, body, SIGNED_CREATED, params={"created": int(time.time())})
    assert "Date" not in headers
    assert (await _post(spark, headers, body))[0] == 202


async def test_a_signature_covering_no_time_is_refused(spark: Spark, peer: Peer) -> None:
    body, now = peer.activity(), time.time()
    covered = ["(request-target)", "host", "digest"]
    # A fresh Date and created are sent, but the signature covers neither.
    headers = peer.signed(spark.domain, body, covered, date=now, params={"created": int(now)})
    status, text = await _post(spark, headers, body)
    assert status == 401 and "Date header or (created)" in text


async def test_a_signed_expires_in_the_past_is_refused_an_unsigned_one_ignored(
    spark: Spark, peer: Peer
) -> None:
    body, now = peer.activity(), int(time.time())
    expired = {"created": now - 3 * HOUR, "expires": now - 2 * HOUR}
    headers = peer.signed(spark.domain, body, [*SIGNED_CREATED, "(expires)"], params=expired)
    status, text = await _post(spark, headers, body)
    assert status == 401 and "outside acceptable time window" in text
    unsigned = {"created": now, "expires": now - 2 * HOUR}
    assert (await _post(spark, peer.signed(spark.domain, body, SIGNED_CREATED, params=unsigned), body))[
        0
    ] == 202


async def test_a_replay_inside_the_signature_window_is_recognised(spark: Spark, peer: Peer) -> None:
    """The oldest replay a signature allows still finds the first copy remembered.

    The request is signed to live as long as any signature may (created, at most 12 hours, then
    an hour of skew) and to pass now for a few minutes more. Its first copy is dated as early as
    it could have arrived (created, less an hour of skew), and the inbox's memory is trimmed as
    its worker trims it; the replay must be dropped, not stored again.
    """
    body, now = peer.activity(), int(time.time())
    created = now - REPLAY_WINDOW + HOUR + 5 * 60
    params = {"created": created, "expires": created + 12 * HOUR}
    headers = peer.signed(spark.domain, body, [*SIGNED_CREATED, "(expires)"], params=params)
    assert (await _post(spark, headers, body))[0] == 202
    first_arrival = utcnow() - timedelta(seconds=now - (created - HOUR))
    async with spark.db.write() as session:
        await session.exec(
            update(InboxItem).where(col(InboxItem.actor_uri) == peer.uri).values(created_at=first_arrival)
        )
    await jobs.prune(spark.db, InboxItem, REDELIVERY_MEMORY)

    assert (await _post(spark, headers, body))[0] == 202
    async with spark.db.read() as session:
        rows = (await session.exec(select(InboxItem).where(col(InboxItem.actor_uri) == peer.uri))).all()
    assert len(rows) == 1 and abs((rows[0].created_at - first_arrival).total_seconds()) < 1
