"""Posts between two Spark instances: delivery, threads, edits, deletes, boosts, likes, visibility."""

import aiohttp
from sqlmodel import select

from outbox import actions, interactions, posts
from spark_fed.models import Account, Follow, FollowState, Notification, Status
from spark_fed.queries.timelines import TimelineKind, timeline

from .conftest import Spark, eventually


async def _following(
    a: Spark, b: Spark, follower: str = "bob", followee: str = "alice"
) -> tuple[Account, Account]:
    """FOLLOWER on B follows FOLLOWEE on A, accepted."""
    writer, reader = await a.user(followee), await b.user(follower)
    await actions.follow(b.ctx, reader, writer.uri)

    async def accepted() -> bool:
        async with b.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="the follow to be accepted")
    return writer, reader


async def _on(spark: Spark, uri: str) -> Status | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Status).where(Status.uri == uri))).first()


async def _home(spark: Spark, account: Account) -> list:
    async with spark.db.read() as session:
        return await timeline(session, account, TimelineKind.HOME, limit=20)


async def test_public_post_reaches_a_follower_and_their_home_timeline(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, bob = await _following(a, b)
    status = await posts.post(a.ctx, alice, "Hello #fediverse, see https://example.com/page.")
    assert status.uri == f"{a.base}/users/alice/statuses/{status.id}"

    async def arrived() -> Status | None:
        return await _on(b, status.uri)

    copy = await eventually(arrived, what="the Create to reach B")
    assert "Hello" in copy.content and 'href="https://example.com/page"' in copy.content
    assert 'class="mention hashtag"' in copy.content
    assert copy.visibility == "public" and not copy.local
    [item] = await _home(b, bob)
    assert item.note.uri == status.uri and item.note_author.uri == alice.uri
    assert [i.note.uri for i in await _home(a, alice)] == [status.uri]


async def test_mention_reaches_a_non_follower_and_notifies(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, carol = await a.user("alice"), await b.user("carol")
    status = await posts.post(a.ctx, alice, f"Hi @carol@{b.domain}!")

    async def arrived() -> Status | None:
        return await _on(b, status.uri)

    await eventually(arrived, what="the mention to reach a non-follower")
    async with b.db.read() as session:
        kinds = [n.type for n in (await session.exec(select(Notification))).all()]
        mentions = await timeline(session, carol, TimelineKind.MENTIONS, limit=10)
    assert kinds == ["mention"]
    assert [m.note.uri for m in mentions] == [status.uri]


async def test_reply_threads_under_its_parent_on_both_sides(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, bob = await _following(a, b)
    parent = await posts.post(a.ctx, alice, "A question?")
    await eventually(lambda: _on(b, parent.uri), what="the parent to reach B")
    reply = await posts.post(b.ctx, bob, "An answer.", reply_to=parent.uri)

    async def threaded() -> Status | None:
        return await _on(a, reply.uri)

    copy = await eventually(threaded, what="the reply to reach A")
    assert copy.in_reply_to_id == parent.id
    assert (await _on(a, parent.uri)).replies_count == 1
    assert (await _on(b, reply.uri)).in_reply_to_uri == parent.uri


async def test_edit_and_delete_are_reflected_on_the_other_side(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, _bob = await _following(a, b)
    status = await posts.post(a.ctx, alice, "first version")
    await eventually(lambda: _on(b, status.uri))
    await posts.edit(a.ctx, alice, status.url, "second version")

    async def edited() -> bool:
        copy = await _on(b, status.uri)
        return copy is not None and "second version" in copy.content and copy.edited_at is not None

    await eventually(edited, what="the Update to reach B")
    await posts.delete(a.ctx, alice, status.uri)

    async def deleted() -> bool:
        return await _on(b, status.uri) is None

    await eventually(deleted, what="the Delete to reach B")
    async with (
        aiohttp.ClientSession() as session,
        session.get(status.uri, headers={"Accept": "application/activity+json"}) as resp,
    ):
        assert resp.status == 410


async def test_boost_and_like_and_their_undo(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, bob = await _following(a, b)
    status = await posts.post(a.ctx, alice, "boost me")
    await eventually(lambda: _on(b, status.uri))
    await interactions.like(b.ctx, bob, status.uri)
    await interactions.boost(b.ctx, bob, status.uri)

    async def counted() -> bool:
        original = await _on(a, status.uri)
        return original.favourites_count == 1 and original.reblogs_count == 1

    await eventually(counted, what="the Like and Announce to be counted on A")
    async with a.db.read() as session:
        kinds = sorted(n.type for n in (await session.exec(select(Notification))).all())
    assert kinds == ["favourite", "follow", "reblog"]
    await interactions.unlike(b.ctx, bob, status.uri)
    await interactions.unboost(b.ctx, bob, status.uri)

    async def uncounted() -> bool:
        original = await _on(a, status.uri)
        return original.favourites_count == 0 and original.reblogs_count == 0

    await eventually(uncounted, what="the Undos to be counted on A")


async def test_followers_only_post_is_not_served_to_strangers(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, _bob = await _following(a, b)
    status = await posts.post(a.ctx, alice, "for followers", visibility="followers")
    copy = await eventually(lambda: _on(b, status.uri), what="the followers-only post to reach a follower")
    assert copy.visibility == "followers"
    async with aiohttp.ClientSession() as session:
        async with session.get(status.uri, headers={"Accept": "application/activity+json"}) as resp:
            assert resp.status == 404
        async with session.get(f"{a.base}/users/alice/outbox?page=true") as resp:
            assert (await resp.json(content_type=None))["orderedItems"] == []
    public = await posts.post(a.ctx, alice, "for everyone")
    async with aiohttp.ClientSession() as session:
        async with session.get(public.uri, headers={"Accept": "application/activity+json"}) as resp:
            assert resp.status == 200
            note = await resp.json(content_type=None)
        async with session.get(f"{a.base}/users/alice/outbox?page=true") as resp:
            page = await resp.json(content_type=None)
    assert note["attributedTo"] == alice.uri and note["to"] == [
        "https://www.w3.org/ns/activitystreams#Public"
    ]
    assert [item["object"]["id"] for item in page["orderedItems"]] == [public.uri]
    assert page["totalItems"] == 1
