"""WebFinger, host-meta and NodeInfo, as Mastodon and GoToSocial read them."""

import xml.etree.ElementTree as ET

from outbox import posts
from spark_fed.accounts import create_local_user
from spark_fed.state import URLS

from .conftest import Spark


async def _alice(spark: Spark) -> None:
    await create_local_user(spark.db, spark.app[URLS], "alice", display_name="Alice")


async def test_webfinger_acct(spark: Spark, aiohttp_client) -> None:
    await _alice(spark)
    client = await aiohttp_client(spark.server)
    resp = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{spark.domain}"})
    assert resp.status == 200
    assert resp.content_type == "application/jrd+json"
    body = await resp.json(content_type=None)
    assert body["subject"] == f"acct:alice@{spark.domain}"
    actor = f"{spark.base}/users/alice"
    assert body["aliases"] == [f"{spark.base}/@alice", actor]
    self_links = [link for link in body["links"] if link["rel"] == "self"]
    assert self_links == [{"rel": "self", "type": "application/activity+json", "href": actor}]
    profile = [link for link in body["links"] if link["rel"] == "http://webfinger.net/rel/profile-page"]
    assert profile[0]["href"] == f"{spark.base}/@alice"


async def test_webfinger_other_forms(spark: Spark, aiohttp_client) -> None:
    await _alice(spark)
    client = await aiohttp_client(spark.server)
    for resource in (
        f"ALICE@{spark.domain}",
        f"@alice@{spark.domain}",
        f"{spark.base}/users/alice",
        f"{spark.base}/@alice",
    ):
        resp = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert resp.status == 200, resource
        assert (await resp.json(content_type=None))["subject"] == f"acct:alice@{spark.domain}"


async def test_webfinger_instance_actor(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    for resource in (spark.domain, f"{spark.base}/", f"acct:{spark.domain}@{spark.domain}"):
        resp = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert resp.status == 200, resource
        body = await resp.json(content_type=None)
        assert body["links"][0]["href"] == f"{spark.base}/actor"


async def test_webfinger_errors(spark: Spark, aiohttp_client) -> None:
    await _alice(spark)
    client = await aiohttp_client(spark.server)
    cases = {
        None: 400,
        "": 400,
        "acct:alice": 400,
        "acct:@": 400,
        f"acct:nobody@{spark.domain}": 404,
        "acct:alice@elsewhere.example": 404,
        "https://elsewhere.example/users/alice": 404,
        f"{spark.base}/users/alice/followers": 404,
        f"acct:bad name@{spark.domain}": 404,
    }
    for resource, status in cases.items():
        params = {} if resource is None else {"resource": resource}
        resp = await client.get("/.well-known/webfinger", params=params)
        assert resp.status == status, resource
        body = await resp.json()
        assert isinstance(body["error"], str) and "\n" not in body["error"]


async def test_host_meta(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    resp = await client.get("/.well-known/host-meta")
    assert resp.status == 200
    assert resp.content_type == "application/xrd+xml"
    root = ET.fromstring(await resp.text())
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None and link.get("rel") == "lrdd"
    assert link.get("template") == f"{spark.base}/.well-known/webfinger?resource={{uri}}"
    resp = await client.get("/.well-known/host-meta", headers={"Accept": "application/json"})
    assert (await resp.json(content_type=None))["links"][0]["rel"] == "lrdd"


async def test_nodeinfo(spark: Spark, aiohttp_client) -> None:
    await _alice(spark)
    bob = await create_local_user(spark.db, spark.app[URLS], "bob")
    for text in ("one", "two"):
        await posts.post(spark.ctx, bob, text)
    client = await aiohttp_client(spark.server)
    resp = await client.get("/.well-known/nodeinfo")
    links = {link["rel"]: link["href"] for link in (await resp.json())["links"]}
    assert links["https://www.w3.org/ns/activitystreams#Application"] == f"{spark.base}/actor"
    for version in ("2.0", "2.1"):
        href = links[f"http://nodeinfo.diaspora.software/ns/schema/{version}"]
        assert href == f"{spark.base}/nodeinfo/{version}"
        resp = await client.get(f"/nodeinfo/{version}")
        assert resp.status == 200
        assert f"schema/{version}#" in resp.headers["Content-Type"]
        doc = await resp.json(content_type=None)
        assert doc["version"] == version
        assert doc["software"]["name"] == "spark"
        assert doc["protocols"] == ["activitypub"]
        assert doc["usage"]["users"]["total"] == 2  # the instance actor is not a user
        assert doc["usage"]["localPosts"] == 2
        assert doc["openRegistrations"] is False
        assert doc["metadata"]["nodeName"] == "Spark"
    assert (await client.get("/nodeinfo/1.0")).status == 404
