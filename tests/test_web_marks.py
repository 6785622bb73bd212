"""Bookmarks, pins and the Likes tab in the web pages, over HTTP, with and without the script."""

from aiohttp.test_utils import TestClient

from outbox import interactions, posts
from spark_fed.models import Bookmark, StatusPin
from spark_fed.passwords import hash_password
from tests.conftest import CHEAP_PASSWORDS, Spark
from tests.test_web import HTML, PASSWORD, csrf_of, sign_in

from .rows import count_rows

SAME = {"Sec-Fetch-Site": "same-origin"}


async def _signed_in(spark: Spark, aiohttp_client, name: str):
    account = await spark.user(name, password_hash=await hash_password(CHEAP_PASSWORDS, PASSWORD))
    client = await aiohttp_client(spark.server)
    assert (await sign_in(client, name)).status == 303
    return client, account


async def _press(client: TestClient, path: str, csrf: str, **headers: str):
    return await client.post(
        path,
        data={"csrf_token": csrf, "next": "/bookmarks"},
        headers={**SAME, **headers},
        allow_redirects=False,
    )


async def test_bookmark_button_and_page(spark: Spark, aiohttp_client) -> None:
    client, _bob = await _signed_in(spark, aiohttp_client, "bob")
    alice = await spark.user("alice")
    note = await posts.post(spark.ctx, alice, "keep this one")
    page = await (await client.get("/explore", headers=HTML)).text()
    assert f'action="/web/statuses/{note.id}/bookmark"' in page and 'href="/bookmarks"' in page
    csrf = csrf_of(page)
    empty = await (await client.get("/bookmarks", headers=HTML)).text()
    assert "No bookmarks yet" in empty
    # Without the script: a form POST and a 303 back.
    resp = await _press(client, f"/web/statuses/{note.id}/bookmark", csrf)
    assert resp.status == 303 and resp.headers["Location"] == "/bookmarks"
    listed = await (await client.get("/bookmarks", headers=HTML)).text()
    assert "keep this one" in listed and f'action="/web/statuses/{note.id}/unbookmark"' in listed
    # With it: JSON for the button's new state.
    resp = await _press(client, f"/web/statuses/{note.id}/unbookmark", csrf, Accept="application/json")
    assert resp.status == 200 and await resp.json() == {"pressed": False}
    assert await count_rows(spark, Bookmark) == 0
    # A post one may not see, or no post: 404, nothing stored; a missing token: 403.
    secret = await posts.post(spark.ctx, alice, "followers only", visibility="followers")
    assert (await _press(client, f"/web/statuses/{secret.id}/bookmark", csrf)).status == 404
    assert (await _press(client, "/web/statuses/123456789/bookmark", csrf)).status == 404
    assert (await _press(client, f"/web/statuses/{note.id}/bookmark", "forged")).status == 403
    assert await count_rows(spark, Bookmark) == 0


async def test_pinned_posts_lead_the_profile_and_the_menu_pins(spark: Spark, aiohttp_client) -> None:
    client, alice = await _signed_in(spark, aiohttp_client, "alice")
    visitor = await aiohttp_client(spark.server)
    older = await posts.post(spark.ctx, alice, "my pinned post")
    await posts.post(spark.ctx, alice, "a newer post")
    profile = await (await client.get("/@alice", headers=HTML)).text()
    assert f'action="/web/statuses/{older.id}/pin"' in profile and "Pin to profile" in profile
    resp = await _press(client, f"/web/statuses/{older.id}/pin", csrf_of(profile))
    assert resp.status == 303
    shown = await (await visitor.get("/@alice", headers=HTML)).text()
    assert shown.index("Pinned") < shown.index("my pinned post") < shown.index("a newer post")
    assert shown.count(f'id="post-{older.id}"') == 1  # once, on top
    # Only the posts tab, on its first page, leads with it.
    assert "Pinned" not in await (await visitor.get("/@alice?tab=replies", headers=HTML)).text()
    mine = await (await client.get("/@alice", headers=HTML)).text()
    assert "Unpin from profile" in mine
    # Someone else's post cannot be pinned.
    bob = await spark.user("bob")
    bobs = await posts.post(spark.ctx, bob, "bob's")
    resp = await _press(client, f"/web/statuses/{bobs.id}/pin", csrf_of(mine))
    assert resp.status == 422 and await count_rows(spark, StatusPin) == 1
    assert (await _press(client, f"/web/statuses/{older.id}/unpin", csrf_of(mine))).status == 303
    assert await count_rows(spark, StatusPin) == 0


async def test_likes_tab_on_ones_own_profile_only(spark: Spark, aiohttp_client) -> None:
    client, alice = await _signed_in(spark, aiohttp_client, "alice")
    bob = await spark.user("bob")
    liked = await posts.post(spark.ctx, bob, "a post alice liked")
    await interactions.like(spark.ctx, alice, liked.uri)
    mine = await (await client.get("/@alice?tab=likes", headers=HTML)).text()
    assert 'tab=likes" aria-current="page"' in mine and "a post alice liked" in mine
    other = await (await client.get("/@bob?tab=likes", headers=HTML)).text()
    assert "tab=likes" not in other  # bob's profile: his posts, no Likes tab
    visitor = await aiohttp_client(spark.server)
    assert "a post alice liked" not in await (await visitor.get("/@alice?tab=likes", headers=HTML)).text()
