"""The Mastodon client API over real HTTP, with tokens as `spark-fed tokens create` makes them."""

import json

from sqlmodel import select

from spark_fed.models import Follow, FollowState
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, eventually


async def _client(spark: Spark, aiohttp_client, name: str, scopes: str = "read write follow"):
    account = await spark.user(name)
    token = await create_token(spark.db, account, parse_scopes(scopes))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account


async def test_instance_answers_with_and_without_a_trailing_slash(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    for path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"):
        resp = await client.get(path)
        assert resp.status == 200, path
        body = await resp.json()
        assert body["version"].startswith("4.5.0 (compatible; Spark ")
    assert (await (await client.get("/api/v1/custom_emojis")).json()) == []


async def test_post_read_and_timeline(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    me = await (await client.get("/api/v1/accounts/verify_credentials")).json()
    assert me["id"] == str(alice.id) and me["acct"] == "alice" and "source" in me
    resp = await client.post("/api/v1/statuses", data={"status": "from a form", "visibility": "unlisted"})
    assert resp.status == 200, await resp.text()
    first = await resp.json()
    assert first["visibility"] == "unlisted" and first["uri"].startswith(
        f"{spark.base}/users/alice/statuses/"
    )
    assert first["account"]["acct"] == "alice" and isinstance(first["id"], str)
    resp = await client.post(
        "/api/v1/statuses",
        data=json.dumps({"status": "from JSON", "in_reply_to_id": first["id"], "spoiler_text": "cw"}),
        headers={"Content-Type": "application/json"},
    )
    reply = await resp.json()
    assert reply["in_reply_to_id"] == first["id"] and reply["spoiler_text"] == "cw" and reply["sensitive"]
    home = await client.get("/api/v1/timelines/home", params={"limit": "1"})
    [newest] = await home.json()
    assert newest["id"] == reply["id"]
    link = home.headers["Link"]
    assert link.index('rel="next"') < link.index('rel="prev"') and f"max_id={reply['id']}" in link
    older = await (await client.get("/api/v1/timelines/home", params={"max_id": reply["id"]})).json()
    assert [s["id"] for s in older] == [first["id"]]
    context = await (await client.get(f"/api/v1/statuses/{first['id']}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    liked = await (await client.post(f"/api/v1/statuses/{first['id']}/favourite")).json()
    assert liked["favourited"] is True and liked["favourites_count"] == 1
    edited = await (await client.put(f"/api/v1/statuses/{first['id']}", data={"status": "edited"})).json()
    assert "edited" in edited["content"] and edited["edited_at"]
    deleted = await client.delete(f"/api/v1/statuses/{reply['id']}")
    assert deleted.status == 200
    assert (await client.get(f"/api/v1/statuses/{reply['id']}")).status == 404


async def test_errors_are_mastodons(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice", scopes="read")
    anonymous = await aiohttp_client(spark.server)
    resp = await anonymous.get("/api/v1/timelines/home")
    assert resp.status == 401 and "error" in await resp.json()
    resp = await anonymous.get("/api/v1/timelines/home", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    resp = await client.post("/api/v1/statuses", data={"status": "no write scope"})
    assert (
        resp.status == 403 and (await resp.json())["error"] == "This action is outside the authorized scopes"
    )
    writer, _bob = await _client(spark, aiohttp_client, "bob")
    resp = await writer.post("/api/v1/statuses", data={"status": ""})
    assert resp.status == 422
    resp = await writer.post("/api/v1/statuses", data={"status": "secret", "visibility": "direct"})
    secret = await resp.json()
    assert secret["visibility"] == "direct"
    assert (await client.get(f"/api/v1/statuses/{secret['id']}")).status == 404  # alice may not see it
    assert (await anonymous.get("/api/v1/statuses/12345")).status == 404


async def test_follow_a_remote_account_and_see_notifications(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    client, _alice = await _client(a, aiohttp_client, "alice")
    other, bob = await _client(b, aiohttp_client, "bob")
    found = await client.get("/api/v1/accounts/lookup", params={"acct": f"bob@{b.domain}"})
    remote = await found.json()
    assert remote["acct"] == f"bob@{b.domain}" and remote["uri"] == bob.uri
    rel = await (await client.post(f"/api/v1/accounts/{remote['id']}/follow")).json()
    assert rel["requested"] or rel["following"]

    async def accepted() -> bool:
        async with a.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="the follow to be accepted")
    [rel] = await (await client.get("/api/v1/accounts/relationships", params={"id[]": remote["id"]})).json()
    assert rel["following"] is True
    [rel] = await (await client.get("/api/v1/accounts/relationships", params={"id": remote["id"]})).json()
    assert rel["following"] is True
    notes = await (await other.get("/api/v1/notifications")).json()
    assert [n["type"] for n in notes] == ["follow"]
    assert "status" not in notes[0]
    assert notes[0]["account"]["acct"] == f"alice@{a.domain}"


async def test_browser_apps_get_cors_headers(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    origin = {"Origin": "https://app.example"}
    resp = await client.options(
        "/api/v1/statuses",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert resp.status in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await client.get("/api/v1/timelines/home", headers=origin)
    assert resp.status == 401 and resp.headers["Access-Control-Allow-Origin"] == "*"  # errors too
