"""More of the client API: profiles, follow requests, lists, search, tags, notifications."""

from sqlmodel import select

from spark_fed.models import Account

from .api_clients import api_client
from .conftest import Spark, eventually


async def test_update_credentials_reaches_followers(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    client, alice = await api_client(a, aiohttp_client, "alice")
    bobs, _bob = await api_client(b, aiohttp_client, "bob")
    remote = await (await bobs.get("/api/v1/accounts/lookup", params={"acct": f"alice@{a.domain}"})).json()
    await bobs.post(f"/api/v1/accounts/{remote['id']}/follow")

    async def followed() -> bool:
        followers = await (await client.get(f"/api/v1/accounts/{alice.id}/followers")).json()
        return len(followers) == 1

    await eventually(followed, what="bob to follow alice")
    resp = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice L.", "note": "bio & more", "locked": "1"},
    )
    me = await resp.json()
    assert me["display_name"] == "Alice L." and me["locked"] is True and me["source"]["note"] == "bio & more"
    assert (await client.patch("/api/v1/accounts/update_credentials", data={"locked": "maybe"})).status == 422

    async def refreshed() -> bool:
        async with b.db.read() as session:
            stored = (await session.exec(select(Account).where(Account.uri == alice.uri))).first()
        return stored is not None and stored.display_name == "Alice L." and stored.locked

    await eventually(refreshed, what="Update(Person) to refresh alice on bob's server")


async def test_follow_requests_and_lists(spark: Spark, aiohttp_client) -> None:
    alices, alice = await api_client(spark, aiohttp_client, "alice", locked=True)
    bobs, bob = await api_client(spark, aiohttp_client, "bob")
    rel = await (await bobs.post(f"/api/v1/accounts/{alice.id}/follow")).json()
    assert rel["requested"] is True and rel["following"] is False
    pending = await (await alices.get("/api/v1/follow_requests")).json()
    assert [p["id"] for p in pending] == [str(bob.id)]
    rel = await (await alices.post(f"/api/v1/follow_requests/{bob.id}/authorize")).json()
    assert rel["followed_by"] is True
    assert (await alices.post(f"/api/v1/follow_requests/{bob.id}/authorize")).status == 404
    following = await (await bobs.get(f"/api/v1/accounts/{bob.id}/following")).json()
    assert [f["acct"] for f in following] == ["alice"]
    post = await (await alices.post("/api/v1/statuses", data={"status": "hi #Café"})).json()
    await bobs.post(f"/api/v1/statuses/{post['id']}/favourite")
    await bobs.post(f"/api/v1/statuses/{post['id']}/reblog")
    liked = await (await alices.get(f"/api/v1/statuses/{post['id']}/favourited_by")).json()
    boosted = await (await alices.get(f"/api/v1/statuses/{post['id']}/reblogged_by")).json()
    assert [a["acct"] for a in liked] == [a["acct"] for a in boosted] == ["bob"]
    tagged = await (await bobs.get("/api/v1/timelines/tag/cafe")).json()
    assert [s["id"] for s in tagged] == [post["id"]]
    found = await (await bobs.get("/api/v2/search", params={"q": "caf"})).json()
    assert [h["name"] for h in found["hashtags"]] == ["cafe"]
    found = await (await bobs.get("/api/v2/search", params={"q": "ali", "type": "accounts"})).json()
    assert [a["acct"] for a in found["accounts"]] == ["alice"]
    notes = await (await alices.get("/api/v1/notifications")).json()
    assert {n["type"] for n in notes} == {"follow_request", "favourite", "reblog"}
    one = await (await alices.get(f"/api/v1/notifications/{notes[0]['id']}")).json()
    assert one["id"] == notes[0]["id"]
    assert (await bobs.get(f"/api/v1/notifications/{notes[0]['id']}")).status == 404  # not bob's
    await alices.post(f"/api/v1/notifications/{notes[0]['id']}/dismiss")
    assert len(await (await alices.get("/api/v1/notifications")).json()) == len(notes) - 1
    await alices.post("/api/v1/notifications/clear")
    assert await (await alices.get("/api/v1/notifications")).json() == []


async def test_search_resolves_remote_accounts_and_posts(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    client, _alice = await api_client(a, aiohttp_client, "alice")
    bobs, _bob = await api_client(b, aiohttp_client, "bob")
    post = await (await bobs.post("/api/v1/statuses", data={"status": "find me"})).json()
    found = await (
        await client.get("/api/v2/search", params={"q": f"@bob@{b.domain}", "resolve": "true"})
    ).json()
    assert [x["acct"] for x in found["accounts"]] == [f"bob@{b.domain}"]
    found = await (await client.get("/api/v2/search", params={"q": post["uri"], "resolve": "true"})).json()
    assert [s["uri"] for s in found["statuses"]] == [post["uri"]]
    anonymous = await aiohttp_client(a.server)
    found = await (
        await anonymous.get("/api/v2/search", params={"q": f"carol@{b.domain}", "resolve": "true"})
    ).json()
    assert found["accounts"] == []  # no resolving for anonymous callers


async def test_markers_and_idempotent_posts(spark: Spark, aiohttp_client) -> None:
    client, _alice = await api_client(spark, aiohttp_client, "alice")
    saved = await (await client.post("/api/v1/markers", data={"home[last_read_id]": "123"})).json()
    assert saved["home"]["last_read_id"] == "123" and saved["home"]["version"] == 1
    await client.post("/api/v1/markers", json={"home": {"last_read_id": "456"}})
    read = await (await client.get("/api/v1/markers", params={"timeline[]": "home"})).json()
    assert read["home"]["last_read_id"] == "456" and read["home"]["version"] == 2
    assert (await client.post("/api/v1/markers", data={"home[last_read_id]": "x"})).status == 422
    headers = {"Idempotency-Key": "same-key"}
    first = await (await client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)).json()
    again = await (await client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)).json()
    assert first["id"] == again["id"]
    home = await (await client.get("/api/v1/timelines/home")).json()
    assert [s["id"] for s in home] == [first["id"]]


async def test_bot_and_posting_defaults(spark: Spark, aiohttp_client) -> None:
    client, _alice = await api_client(spark, aiohttp_client, "alice")
    resp = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"bot": "true", "source[privacy]": "private", "source[language]": "de"},
    )
    me = await resp.json()
    assert me["bot"] is True and me["source"]["privacy"] == "private" and me["source"]["language"] == "de"
    prefs = await (await client.get("/api/v1/preferences")).json()
    assert prefs["posting:default:visibility"] == "private" and prefs["posting:default:language"] == "de"
    post = await (await client.post("/api/v1/statuses", data={"status": "defaults apply"})).json()
    assert post["visibility"] == "private" and post["language"] == "de"
    bad = await client.patch("/api/v1/accounts/update_credentials", json={"source": {"privacy": "everyone"}})
    assert bad.status == 422
    doc = await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).json()
    assert doc["type"] == "Service"
