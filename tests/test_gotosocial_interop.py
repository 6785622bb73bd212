"""A GoToSocial-shaped sender: keyId without fragment served as a stub, hs2019 label, no shared inbox,
signed GETs required, Follow sent to Spark's shared inbox. Its signing is this file's own code."""

import base64
import hashlib
import json
import uuid
from email.utils import formatdate
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import select

from spark_fed.models import Account, Follow, FollowState

from .conftest import Spark, eventually

AS = "https://www.w3.org/ns/activitystreams"


class FakeGoToSocial:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.base = ""
        self.received: list[dict[str, Any]] = []
        self.unsigned_gets = 0
        self.app = web.Application()
        self.app.router.add_get("/users/gts", self.actor)
        self.app.router.add_get("/users/gts/main-key", self.key_stub)
        self.app.router.add_post("/users/gts/inbox", self.inbox)

    @property
    def actor_id(self) -> str:
        return f"{self.base}/users/gts"

    def _public_key(self) -> dict[str, str]:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"id": f"{self.actor_id}/main-key", "owner": self.actor_id, "publicKeyPem": pem.decode()}

    def _document(self, body: dict[str, Any]) -> web.Response:
        return web.Response(body=json.dumps(body).encode(), content_type="application/activity+json")

    def _require_signature(self, request: web.Request) -> None:
        if "Signature" not in request.headers:
            self.unsigned_gets += 1
            raise web.HTTPUnauthorized()

    async def actor(self, request: web.Request) -> web.Response:
        self._require_signature(request)
        return self._document(
            {
                "@context": [AS, "https://w3id.org/security/v1"],
                "id": self.actor_id,
                "type": "Person",
                "preferredUsername": "gts",
                "inbox": f"{self.actor_id}/inbox",
                "outbox": f"{self.actor_id}/outbox",
                "followers": f"{self.actor_id}/followers",
                "following": f"{self.actor_id}/following",
                "publicKey": self._public_key(),
            }
        )

    async def key_stub(self, request: web.Request) -> web.Response:
        """GoToSocial answers a key fetch with a stub whose id is the actor's, not the key's."""
        return self._document(
            {
                "@context": [AS, "https://w3id.org/security/v1"],
                "id": self.actor_id,
                "type": "Person",
                "publicKey": self._public_key(),
            }
        )

    async def inbox(self, request: web.Request) -> web.Response:
        if request.content_type != "application/activity+json":
            return web.Response(status=406)
        self.received.append(json.loads(await request.read()))
        return web.Response(status=202)

    async def post(self, url: str, activity: dict[str, Any]) -> int:
        body = json.dumps(activity).encode()
        target = aiohttp.client.URL(url)
        headers = {
            "Host": f"{target.host}:{target.port}",
            "Date": formatdate(usegmt=True),
            "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
            "Content-Type": "application/activity+json; charset=utf-8",
        }
        lines = [f"(request-target): post {target.path}"] + [
            f"{name.lower()}: {headers[name]}" for name in ("Host", "Date", "Digest")
        ]
        signature = self.key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        headers["Signature"] = (
            f'keyId="{self.actor_id}/main-key",algorithm="hs2019",'
            'headers="(request-target) host date digest",'
            f'signature="{base64.b64encode(signature).decode()}"'
        )
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
            return resp.status


async def test_gotosocial_follow_via_the_shared_inbox(spark: Spark, aiohttp_server) -> None:
    gts = FakeGoToSocial()
    server = await aiohttp_server(gts.app)
    gts.base = str(server.make_url("")).rstrip("/")
    alice = await spark.user("alice")
    follow = {
        "@context": AS,
        "id": f"{gts.base}/{uuid.uuid4()}",
        "type": "Follow",
        "actor": gts.actor_id,
        "object": alice.uri,
    }
    assert await gts.post(f"{spark.base}/inbox", follow) == 202

    async def accepted() -> list[dict[str, Any]]:
        return [a for a in gts.received if a.get("type") == "Accept"]

    [accept] = await eventually(accepted, what="the Accept at GoToSocial's personal inbox")
    assert accept["object"] == follow
    assert gts.unsigned_gets == 0
    async with spark.db.read() as session:
        row, actor = (
            await session.exec(select(Follow, Account).join(Account, Account.id == Follow.follower_id))
        ).one()
    assert row.state == FollowState.ACCEPTED
    assert actor.uri == gts.actor_id
    assert actor.public_key_id == f"{gts.actor_id}/main-key"
    assert actor.shared_inbox_url is None
