"""Bookmarks, the favourites list and pinned posts through the client API (raw HTTP)."""

from spark_fed.models import Bookmark, StatusPin

from .api_clients import api_client
from .conftest import Spark
from .rows import count_rows


async def _post(client, text: str, visibility: str = "public") -> dict:
    resp = await client.post("/api/v1/statuses", data={"status": text, "visibility": visibility})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_bookmarks_page_by_the_bookmark_and_hide_what_is_no_longer_visible(
    spark: Spark, aiohttp_client
) -> None:
    alices, _alice = await api_client(spark, aiohttp_client, "alice")
    bobs, bob = await api_client(spark, aiohttp_client, "bob")
    old, new = await _post(alices, "old one"), await _post(alices, "new one")
    first = await (await bobs.post(f"/api/v1/statuses/{new['id']}/bookmark")).json()
    assert first["bookmarked"] is True and first["id"] == new["id"]
    again = await (await bobs.post(f"/api/v1/statuses/{new['id']}/bookmark")).json()
    assert again["bookmarked"] is True and await count_rows(spark, Bookmark) == 1  # idempotent
    await bobs.post(f"/api/v1/statuses/{old['id']}/bookmark")
    # Bookmarked last, so listed first, though older as a post.
    resp = await bobs.get("/api/v1/bookmarks", params={"limit": "1"})
    page = await resp.json()
    assert [s["id"] for s in page] == [old["id"]] and page[0]["bookmarked"] is True
    assert 'rel="next"' in resp.headers["Link"]
    next_url = resp.headers["Link"].split(";")[0].strip("<>")
    rest = await (await bobs.get(next_url.split(spark.base, 1)[-1])).json()
    assert [s["id"] for s in rest] == [new["id"]]
    # The viewer's flag in every entity, and only hers.
    shown = await (await bobs.get(f"/api/v1/statuses/{new['id']}")).json()
    assert shown["bookmarked"] is True
    assert (await (await alices.get(f"/api/v1/statuses/{new['id']}")).json())["bookmarked"] is False
    home = await (await bobs.get(f"/api/v1/accounts/{_alice.id}/statuses")).json()
    assert all(s["bookmarked"] for s in home)
    # Alice blocks bob: the bookmark stays stored but is no longer listed.
    await alices.post(f"/api/v1/accounts/{bob.id}/block")
    assert await (await bobs.get("/api/v1/bookmarks")).json() == []
    await alices.post(f"/api/v1/accounts/{bob.id}/unblock")
    gone = await (await bobs.post(f"/api/v1/statuses/{new['id']}/unbookmark")).json()
    assert gone["bookmarked"] is False
    assert [s["id"] for s in await (await bobs.get("/api/v1/bookmarks")).json()] == [old["id"]]
    # Unbookmarking what is not bookmarked is fine too.
    assert (await bobs.post(f"/api/v1/statuses/{new['id']}/unbookmark")).status == 200


async def test_bookmarking_an_invisible_post_is_404_and_stores_nothing(spark: Spark, aiohttp_client) -> None:
    alices, _alice = await api_client(spark, aiohttp_client, "alice")
    bobs, _bob = await api_client(spark, aiohttp_client, "bob")
    secret = await _post(alices, "for my followers", "private")
    for path in ("bookmark", "pin"):
        resp = await bobs.post(f"/api/v1/statuses/{secret['id']}/{path}")
        assert resp.status == 404 and "error" in await resp.json()
    assert (await bobs.post("/api/v1/statuses/99999999999/bookmark")).status == 404
    assert (await bobs.post("/api/v1/statuses/x/bookmark")).status == 404
    assert await count_rows(spark, Bookmark) == 0 and await count_rows(spark, StatusPin) == 0
    assert (await bobs.get("/api/v1/bookmarks", params={"max_id": "nope"})).status == 400


async def test_favourites_list_pages_by_the_like(spark: Spark, aiohttp_client) -> None:
    alices, _alice = await api_client(spark, aiohttp_client, "alice")
    bobs, _bob = await api_client(spark, aiohttp_client, "bob")
    posts = [await _post(alices, f"post {n}") for n in range(3)]
    for post in (posts[2], posts[0], posts[1]):
        await bobs.post(f"/api/v1/statuses/{post['id']}/favourite")
    resp = await bobs.get("/api/v1/favourites", params={"limit": "2"})
    page = await resp.json()
    assert [s["id"] for s in page] == [posts[1]["id"], posts[0]["id"]]
    assert all(s["favourited"] for s in page)
    older = resp.headers["Link"].split(";")[0].strip("<>").split(spark.base, 1)[-1]
    assert [s["id"] for s in await (await bobs.get(older)).json()] == [posts[2]["id"]]
    newer = resp.headers["Link"].split(",")[1].split(";")[0].strip(" <>").split(spark.base, 1)[-1]
    assert await (await bobs.get(newer)).json() == []
    assert await (await alices.get("/api/v1/favourites")).json() == []


async def test_pins_follow_mastodons_rules(spark: Spark, aiohttp_client) -> None:
    alices, alice = await api_client(spark, aiohttp_client, "alice")
    bobs, _bob = await api_client(spark, aiohttp_client, "bob")
    posts = [await _post(alices, f"pin me {n}") for n in range(6)]
    for post in posts[:5]:
        pinned = await (await alices.post(f"/api/v1/statuses/{post['id']}/pin")).json()
        assert pinned["pinned"] is True
    resp = await alices.post(f"/api/v1/statuses/{posts[5]['id']}/pin")
    assert resp.status == 422 and "maximum" in (await resp.json())["error"]
    assert await count_rows(spark, StatusPin) == 5
    # Pinning a pinned one again is no sixth pin.
    assert (await alices.post(f"/api/v1/statuses/{posts[0]['id']}/pin")).status == 200
    # Newest pin first; `pinned` shows to the author only.
    listed = await (await bobs.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})).json()
    assert [s["id"] for s in listed] == [p["id"] for p in reversed(posts[:5])]
    assert not any(s["pinned"] for s in listed)
    own = await (await alices.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})).json()
    assert all(s["pinned"] for s in own)
    # Someone else's post, a boost, a direct post: 422, nothing stored.
    bobs_post = await _post(bobs, "mine")
    resp = await alices.post(f"/api/v1/statuses/{bobs_post['id']}/pin")
    assert resp.status == 422 and "own" in (await resp.json())["error"]
    boost = await (await alices.post(f"/api/v1/statuses/{bobs_post['id']}/reblog")).json()
    assert (await alices.post(f"/api/v1/statuses/{boost['id']}/pin")).status == 422
    await alices.post(f"/api/v1/statuses/{posts[0]['id']}/unpin")
    direct = await _post(alices, "@bob psst", "direct")
    resp = await alices.post(f"/api/v1/statuses/{direct['id']}/pin")
    assert resp.status == 422 and "direct" in (await resp.json())["error"]
    assert await count_rows(spark, StatusPin) == 4
    unpinned = await (await alices.post(f"/api/v1/statuses/{posts[1]['id']}/unpin")).json()
    assert unpinned["pinned"] is False and await count_rows(spark, StatusPin) == 3
    assert (await bobs.post(f"/api/v1/statuses/{posts[2]['id']}/unpin")).status == 422
