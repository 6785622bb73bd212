"""Bookmarks, favourites and pins through the real Mastodon.py client, paging with its own
`fetch_next` (which follows the Link headers). Mastodon.py runs in a thread."""

import asyncio

from mastodon import Mastodon, MastodonAPIError

from .conftest import Spark
from .test_mastodon_py import _sign_in, _with_password


def _all_pages(api: Mastodon, first: list) -> list:
    items, page = list(first), first
    while (page := api.fetch_next(page)) is not None and page:
        items += page
    return items


def _round_trip(base: str) -> dict:
    alice, bob = _sign_in(base, "alice"), _sign_in(base, "bob")
    posts = [alice.status_post(f"post {n}") for n in range(5)]
    for post in reversed(posts):
        bob.status_bookmark(post["id"])
        bob.status_favourite(post["id"])
    bookmarks = _all_pages(bob, bob.bookmarks(limit=2))
    favourites = _all_pages(bob, bob.favourites(limit=2))
    pinned = alice.status_pin(posts[0]["id"])
    refused = None
    try:
        bob.status_pin(posts[1]["id"])
    except MastodonAPIError as exc:
        refused = exc
    listed = bob.account_statuses(pinned["account"]["id"], pinned=True)
    unpinned = alice.status_unpin(posts[0]["id"])
    removed = bob.status_unbookmark(posts[0]["id"])
    return {
        "ids": [p["id"] for p in posts],
        "bookmarks": [s["id"] for s in bookmarks],
        "favourites": [s["id"] for s in favourites],
        "flags": all(s["bookmarked"] and s["favourited"] for s in bookmarks),
        "pinned": pinned["pinned"],
        "refused": refused,
        "listed": [s["id"] for s in listed],
        "unpinned": unpinned["pinned"],
        "removed": removed["bookmarked"],
    }


async def test_mastodon_py_bookmarks_favourites_and_pins(spark: Spark) -> None:
    await _with_password(spark, "alice")
    await _with_password(spark, "bob")
    result = await asyncio.to_thread(_round_trip, spark.base)
    ids = result["ids"]
    # Marked from the newest post to the oldest: the oldest was marked last, so comes first.
    assert result["bookmarks"] == ids and result["favourites"] == ids and result["flags"]
    assert result["pinned"] is True and result["listed"] == [ids[0]] and result["unpinned"] is False
    assert result["refused"] is not None and result["refused"].args[1] == 422
    assert result["removed"] is False
