"""Each documented parameter of the lists Spark serves has its effect, and each action answers
with what Mastodon answers (over real HTTP, on real instances on loopback).

Mastodon's facts: the cursors (`max_id` pages back, `since_id` keeps the newest above it,
`min_id` the page just above it, newest first either way); `limit` is the absolute value capped
at twice the list's default; a reblog answers with the boost, the reblogged status inside it.
"""

from typing import Any

from yarl import URL

from outbox import posts

from .conftest import Spark, eventually
from .test_api_conformance import _client, _image, _ok


def _links(response) -> tuple[str, str]:
    """The rel="next" and rel="prev" targets of RESPONSE's Link header, as paths."""
    next_link, prev_link = (part.split(";")[0].strip(" <>") for part in response.headers["Link"].split(","))
    return URL(next_link).path_qs, URL(prev_link).path_qs


def _ids(statuses: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in statuses]


async def test_cursors_and_limits_page_as_mastodons(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    made = [str((await posts.post(spark.ctx, alice, f"post {i}")).id) for i in range(45)]
    newest_first = made[::-1]

    async def home(**query: str) -> list[str]:
        return _ids(await _ok(await client.get("/api/v1/timelines/home", params=query)))

    assert await home() == newest_first[:20]
    assert await home(limit="3") == newest_first[:3]
    assert await home(limit="3", max_id=newest_first[2]) == newest_first[3:6]
    assert await home(limit="3", since_id=made[0]) == newest_first[:3]
    assert await home(limit="3", min_id=made[0]) == [made[3], made[2], made[1]]
    assert await home(min_id=made[40], max_id=made[44]) == [made[43], made[42], made[41]]
    assert await home(limit="100") == newest_first[:40]  # at most twice the default
    assert await home(limit="-2") == newest_first[:2]  # Mastodon reads the absolute value
    assert await home(limit="0") == newest_first[:1]
    assert (await client.get("/api/v1/timelines/home", params={"limit": "many"})).status == 400
    for cursor in ("max_id", "since_id", "min_id"):  # digits that are not ASCII digits name no id
        assert (await client.get("/api/v1/timelines/home", params={cursor: "\u00b3"})).status == 400
    link = (await client.get("/api/v1/timelines/home", params={"limit": "3", "min_id": made[0]})).headers[
        "Link"
    ]
    assert f"max_id={made[1]}" in link and f"min_id={made[3]}" in link


async def test_notification_filters(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    carol_api, carol = await _client(spark, aiohttp_client, "carol")
    dave_api, dave = await _client(spark, aiohttp_client, "dave")
    post = await _ok(await client.post("/api/v1/statuses", data={"status": "like me"}))
    await _ok(await carol_api.post(f"/api/v1/accounts/{alice.id}/follow"))
    await _ok(await carol_api.post(f"/api/v1/statuses/{post['id']}/favourite"))
    await _ok(await dave_api.post("/api/v1/statuses", data={"status": "@alice hello"}))
    await _ok(await dave_api.post(f"/api/v1/statuses/{post['id']}/reblog"))

    async def kinds(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
        found = await _ok(await client.get("/api/v1/notifications", params=query))
        return [(n["type"], n["account"]["acct"]) for n in found]

    assert await kinds([]) == [
        ("reblog", "dave"),
        ("mention", "dave"),
        ("favourite", "carol"),
        ("follow", "carol"),
    ]
    assert await kinds([("types[]", "mention"), ("types[]", "follow")]) == [
        ("mention", "dave"),
        ("follow", "carol"),
    ]
    assert await kinds([("exclude_types[]", "reblog"), ("exclude_types[]", "mention")]) == [
        ("favourite", "carol"),
        ("follow", "carol"),
    ]
    assert await kinds([("account_id", str(carol.id))]) == [("favourite", "carol"), ("follow", "carol")]
    assert await kinds([("account_id", str(dave.id)), ("types[]", "mention")]) == [("mention", "dave")]
    assert await kinds([("account_id", "99999")]) == []
    everything = await _ok(await client.get("/api/v1/notifications"))
    oldest, newest = everything[-1]["id"], everything[0]["id"]
    assert await kinds([("min_id", oldest), ("limit", "1")]) == [("favourite", "carol")]
    assert await kinds([("since_id", oldest), ("limit", "1")]) == [("reblog", "dave")]
    assert await kinds([("max_id", newest), ("limit", "1")]) == [("mention", "dave")]


async def test_account_statuses_flags(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    _carol_api, carol = await _client(spark, aiohttp_client, "carol")
    plain = await _ok(await client.post("/api/v1/statuses", data={"status": "plain #cats"}))
    reply = await _ok(
        await client.post("/api/v1/statuses", data={"status": "reply", "in_reply_to_id": plain["id"]})
    )
    theirs = await posts.post(spark.ctx, carol, "carol's")
    to_carol = await _ok(
        await client.post("/api/v1/statuses", data={"status": "@carol yes", "in_reply_to_id": str(theirs.id)})
    )
    boost = await _ok(await client.post(f"/api/v1/statuses/{theirs.id}/reblog"))
    media = await _ok(await client.post("/api/v2/media", data=_image()))
    picture = await _ok(
        await client.post("/api/v1/statuses", data={"status": "pic", "media_ids[]": media["id"]})
    )

    async def statuses(**query: str) -> list[str]:
        return _ids(await _ok(await client.get(f"/api/v1/accounts/{alice.id}/statuses", params=query)))

    assert await statuses() == _ids([picture, boost, to_carol, reply, plain])
    # A reply to oneself (a thread) is not left out, as in Mastodon; a reply to someone else is.
    assert await statuses(exclude_replies="true") == _ids([picture, boost, reply, plain])
    assert await statuses(exclude_reblogs="true") == _ids([picture, to_carol, reply, plain])
    assert await statuses(only_media="true") == _ids([picture])
    assert await statuses(tagged="cats") == _ids([plain])
    assert await statuses(tagged="#CATS") == _ids([plain])
    assert await statuses(tagged="dogs") == []
    assert await statuses(pinned="true") == []  # Spark has no pinned posts
    assert await statuses(limit="2", max_id=boost["id"]) == _ids([to_carol, reply])


async def test_public_and_tag_timelines_local_remote_and_media(start_spark, aiohttp_client) -> None:
    here, there = await start_spark(), await start_spark()
    client, _alice = await _client(here, aiohttp_client, "alice")
    bob_api, bob = await _client(there, aiohttp_client, "bob")
    found = await _ok(
        await client.get("/api/v2/search", params={"q": f"bob@{there.domain}", "resolve": "true"})
    )
    await _ok(await client.post(f"/api/v1/accounts/{found['accounts'][0]['id']}/follow"))

    async def accepted() -> bool:
        return bool(await _ok(await bob_api.get(f"/api/v1/accounts/{bob.id}/followers")))

    await eventually(accepted, what="alice's follow accepted")
    await _ok(await bob_api.post("/api/v1/statuses", data={"status": "remote #news"}))
    local = await _ok(await client.post("/api/v1/statuses", data={"status": "local #news"}))
    media = await _ok(await client.post("/api/v2/media", data=_image()))
    pic = await _ok(
        await client.post("/api/v1/statuses", data={"status": "#news pic", "media_ids[]": media["id"]})
    )

    async def texts(path: str, **query: str) -> list[str]:
        return [s["content"] for s in await _ok(await client.get(path, params=query))]

    async def arrived() -> bool:
        return any("remote" in t for t in await texts("/api/v1/timelines/public"))

    await eventually(arrived, what="bob's post at alice's server")
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/news"):
        everything = await texts(path)
        assert len(everything) == 3, (path, everything)
        assert await texts(path, local="true") == [pic["content"], local["content"]], path
        assert "remote" in everything[2], path
        assert await texts(path, remote="true") == [everything[2]], path
        assert await texts(path, only_media="true") == [pic["content"]], path


async def test_search_parameters(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    for name in ("sam", "sandy", "sara", "saul"):
        await spark.user(name)
    await _ok(await client.post("/api/v1/statuses", data={"status": "#sailing #sand"}))
    sara = (await _ok(await client.get("/api/v1/accounts/lookup", params={"acct": "sara"})))["id"]
    await _ok(await client.post(f"/api/v1/accounts/{sara}/follow"))

    async def search(**query: str) -> dict[str, list[str]]:
        found = await _ok(await client.get("/api/v2/search", params=query))
        return {
            "accounts": [a["acct"] for a in found["accounts"]],
            "hashtags": [t["name"] for t in found["hashtags"]],
            "statuses": _ids(found["statuses"]),
        }

    assert await search(q="sa") == {
        "accounts": ["sam", "sandy", "sara", "saul"],
        "hashtags": ["sailing", "sand"],
        "statuses": [],
    }
    assert await search(q="sa", type="accounts") == {
        "accounts": ["sam", "sandy", "sara", "saul"],
        "hashtags": [],
        "statuses": [],
    }
    assert await search(q="sa", type="hashtags") == {
        "accounts": [],
        "hashtags": ["sailing", "sand"],
        "statuses": [],
    }
    assert (await search(q="sa", type="accounts", limit="2"))["accounts"] == ["sam", "sandy"]
    assert (await search(q="sa", type="accounts", limit="2", offset="2"))["accounts"] == ["sara", "saul"]
    assert (await search(q="sa", type="hashtags", limit="1", offset="1"))["hashtags"] == ["sand"]
    assert (await search(q="sa", following="true"))["accounts"] == ["sara"]
    assert (await search(q="sara", following="true"))["accounts"] == ["sara"]
    assert (await search(q="sa", type="nothing")) == {"accounts": [], "hashtags": [], "statuses": []}
    anonymous = await aiohttp_client(spark.server)
    assert (await anonymous.get("/api/v2/search", params={"q": "sa", "offset": "1"})).status == 401


async def test_actions_answer_as_mastodons(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    carol_api, carol = await _client(spark, aiohttp_client, "carol")
    post = await _ok(await carol_api.post("/api/v1/statuses", data={"status": "boost me"}))

    boost = await _ok(await client.post(f"/api/v1/statuses/{post['id']}/reblog"))
    assert boost["id"] != post["id"] and boost["account"]["id"] == str(alice.id)
    assert boost["reblog"]["id"] == post["id"] and boost["reblog"]["reblogged"] is True
    assert boost["reblogged"] is True
    again = await _ok(await client.post(f"/api/v1/statuses/{post['id']}/reblog"))
    assert again["id"] == boost["id"]  # boosting twice is the one boost
    undone = await _ok(await client.post(f"/api/v1/statuses/{post['id']}/unreblog"))
    assert undone["id"] == post["id"] and undone["reblogged"] is False and undone["reblog"] is None

    liked = await _ok(await client.post(f"/api/v1/statuses/{post['id']}/favourite"))
    assert liked["id"] == post["id"] and liked["favourited"] is True and liked["favourites_count"] == 1
    unliked = await _ok(await client.post(f"/api/v1/statuses/{post['id']}/unfavourite"))
    assert unliked["favourited"] is False and unliked["favourites_count"] == 0

    followed = await _ok(await client.post(f"/api/v1/accounts/{carol.id}/follow"))
    assert followed["id"] == str(carol.id) and followed["following"] is True
    unfollowed = await _ok(await client.post(f"/api/v1/accounts/{carol.id}/unfollow"))
    assert unfollowed["id"] == str(carol.id) and unfollowed["following"] is False
    blocked = await _ok(await client.post(f"/api/v1/accounts/{carol.id}/block"))
    assert blocked["blocking"] is True
    muted = await _ok(await client.post(f"/api/v1/accounts/{carol.id}/unblock"))
    assert muted["blocking"] is False


async def test_account_lists_page_by_the_rows_that_link_them(spark: Spark, aiohttp_client) -> None:
    """Followers, likes and blocks are paged by the follow's, the like's and the block's id,
    with a Link header whose rel="prev" (min_id) serves the rows just above a page."""
    client, alice = await _client(spark, aiohttp_client, "alice")
    post = await _ok(await client.post("/api/v1/statuses", data={"status": "like me"}))
    fans = []
    for name in ("ann", "ben", "cat", "dan"):
        fan, account = await _client(spark, aiohttp_client, name)
        await _ok(await fan.post(f"/api/v1/accounts/{alice.id}/follow"))
        await _ok(await fan.post(f"/api/v1/statuses/{post['id']}/favourite"))
        fans.append(account)

    async def pages(path: str) -> None:
        first = await client.get(path, params={"limit": "2"})
        assert [a["acct"] for a in await _ok(first)] == ["dan", "cat"], path
        older_link, newer_link = _links(first)
        older = await client.get(older_link)
        assert [a["acct"] for a in await _ok(older)] == ["ben", "ann"], path
        _older, newer_than_ben = _links(older)
        just_above = await client.get(URL(newer_than_ben).update_query(limit="1").path_qs)
        assert [a["acct"] for a in await _ok(just_above)] == ["cat"], path
        assert await _ok(await client.get(newer_link)) == [], path

    await pages(f"/api/v1/accounts/{alice.id}/followers")
    await pages(f"/api/v1/statuses/{post['id']}/favourited_by")
    for account in fans:
        await _ok(await client.post(f"/api/v1/accounts/{account.id}/block"))
    await pages("/api/v1/blocks")


async def test_tag_timeline_any_all_none(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    cats = await _ok(await client.post("/api/v1/statuses", data={"status": "#cats"}))
    both = await _ok(await client.post("/api/v1/statuses", data={"status": "#cats #dogs"}))
    dogs = await _ok(await client.post("/api/v1/statuses", data={"status": "#dogs"}))
    await _ok(await client.post("/api/v1/statuses", data={"status": "#birds"}))

    async def tagged(query: list[tuple[str, str]]) -> list[str]:
        return _ids(await _ok(await client.get("/api/v1/timelines/tag/cats", params=query)))

    assert await tagged([]) == _ids([both, cats])
    assert await tagged([("any[]", "dogs")]) == _ids([dogs, both, cats])  # a note under both comes once
    assert await tagged([("all[]", "dogs")]) == _ids([both])
    assert await tagged([("none[]", "#Dogs")]) == _ids([cats])
    assert await tagged([("any[]", "dogs"), ("none[]", "cats")]) == _ids([dogs])
    assert await tagged([("any[]", "dogs"), ("limit", "1"), ("max_id", dogs["id"])]) == _ids([both])
