"""What blocks, mutes, domain blocks, silences and suspensions hide, read through the one read side."""

from datetime import timedelta

from sqlmodel import select

from outbox import actions, interactions, posts, safety
from spark_fed.models import Account, Follow, Mute
from spark_fed.models.types import utcnow
from spark_fed.queries.accounts import search_accounts
from spark_fed.queries.safety import list_blocks, list_domain_blocks, list_mutes, relations
from spark_fed.queries.threads import thread
from spark_fed.queries.timelines import (
    TimelineKind,
    account_posts,
    notifications,
    tag_timeline,
    timeline,
    visible_status,
)

from .conftest import Spark


async def _names(spark: Spark, reader: Account, kind: TimelineKind) -> list[tuple[str, str]]:
    """(booster or author, note author) of each item, newest first."""
    async with spark.db.read() as session:
        items = await timeline(session, reader, kind, limit=40)
    return [(i.author.username, i.note_author.username) for i in items]


async def _senders(spark: Spark, reader: Account) -> set[str]:
    async with spark.db.read() as session:
        return {n.sender.username for n in await notifications(session, reader, limit=40)}


async def _set(spark: Spark, account: Account, **values) -> None:
    async with spark.db.write() as session:
        stored = await session.get(Account, account.id)
        for key, value in values.items():
            setattr(stored, key, value)
        session.add(stored)


async def test_a_block_hides_everywhere_and_both_ways(spark: Spark) -> None:
    alice, bob, carol = [await spark.user(n) for n in ("alice", "bob", "carol")]
    for followee in ("bob", "carol"):
        await actions.follow(spark.ctx, alice, f"{followee}@{spark.domain}")
    await actions.follow(spark.ctx, carol, f"alice@{spark.domain}")
    root = await posts.post(spark.ctx, bob, "a thread #topic")
    reply = await posts.post(spark.ctx, carol, "a reply #topic @alice", reply_to=root.uri)
    await interactions.boost(spark.ctx, bob, reply.uri)
    mine = await posts.post(spark.ctx, alice, "alice's #topic")
    assert ("carol", "carol") in await _names(spark, alice, TimelineKind.HOME)
    async with spark.db.read() as session:  # bob's boost of it shows on his profile
        assert len(await account_posts(session, alice, bob, limit=20, replies=True)) == 2
    assert "carol" in await _senders(spark, alice)

    await safety.block(spark.ctx, alice, "carol")
    async with spark.db.read() as session:
        assert (await session.exec(select(Follow).where(Follow.follower_id == carol.id))).all() == []
    for kind in TimelineKind:
        assert not any("carol" in pair for pair in await _names(spark, alice, kind)), kind
    assert await _names(spark, alice, TimelineKind.HOME) == [("alice", "alice"), ("bob", "bob")]
    assert "carol" not in await _senders(spark, alice)
    async with spark.db.read() as session:
        shown = await thread(session, alice, root)
        assert shown.descendants == []
        assert [s.id for s in await tag_timeline(session, "topic", limit=20, reader=alice)] == [
            mine.id,
            root.id,
        ]
        assert len(await tag_timeline(session, "topic", limit=20)) == 3
        assert "carol" not in {
            a.username for a in await search_accounts(session, "c", 10, viewer_id=alice.id)
        }
        assert "carol" in {a.username for a in await search_accounts(session, "c", 10, viewer_id=bob.id)}
        # The other way: carol sees nothing of alice's any more.
        assert await account_posts(session, carol, alice, limit=20) == []
        assert await visible_status(session, carol, mine.id) is None
        assert await visible_status(session, bob, mine.id) is not None
        assert "alice" not in {
            a.username for a in await search_accounts(session, "a", 10, viewer_id=carol.id)
        }
        assert await account_posts(session, alice, carol, limit=20) == []
        # bob's profile as alice sees it: his boost of carol's reply is left out.
        assert [s.id for s in await account_posts(session, alice, bob, limit=20, replies=True)] == [root.id]
        rel = await relations(session, alice.id, [bob, carol])
        assert rel[carol.id].blocking and not rel[carol.id].blocked_by and not rel[bob.id].blocking
        assert (await relations(session, carol.id, [alice]))[alice.id].blocked_by
    await safety.unblock(spark.ctx, alice, "carol")
    # The block ended alice's follow of carol and took carol's posts out of her feed (as Mastodon
    # does): they do not come back with the unblock, while the rest reads as before.
    assert await _names(spark, alice, TimelineKind.HOME) == [("alice", "alice"), ("bob", "bob")]
    async with spark.db.read() as session:
        assert len(await account_posts(session, alice, bob, limit=20, replies=True)) == 2


async def test_mutes_notifications_expiry_and_lists(spark: Spark) -> None:
    alice, bob, carol = [await spark.user(n) for n in ("alice", "bob", "carol")]
    await actions.follow(spark.ctx, alice, f"bob@{spark.domain}")
    await posts.post(spark.ctx, bob, "hi @alice")
    await safety.mute(spark.ctx, alice, "bob", notifications=False)
    assert await _names(spark, alice, TimelineKind.HOME) == []
    assert await _senders(spark, alice) == {"bob"}  # --keep-notifications
    assert [n for n, _ in await _names(spark, alice, TimelineKind.MENTIONS)] == ["bob"]
    row = await safety.mute(spark.ctx, alice, "bob", duration=timedelta(hours=2))  # updates the mute
    assert row.notifications and row.expires_at is not None
    assert await _senders(spark, alice) == set()
    assert await _names(spark, alice, TimelineKind.MENTIONS) == []
    async with spark.db.read() as session:
        rel = (await relations(session, alice.id, [bob]))[bob.id]
        assert rel.muting and rel.muting_notifications
    async with spark.db.write() as session:  # the mute runs out
        mute = (await session.exec(select(Mute))).one()
        mute.expires_at = utcnow() - timedelta(seconds=1)
        session.add(mute)
    assert await _names(spark, alice, TimelineKind.HOME) == [("bob", "bob")]
    async with spark.db.read() as session:
        assert await list_mutes(session, alice.id, limit=10) == []
    # Lists page by id, newest first.
    dave = await spark.user("dave")
    for target in ("bob", "carol", "dave"):
        await safety.block(spark.ctx, alice, target)
    async with spark.db.read() as session:
        first = await list_blocks(session, alice.id, limit=2)
        assert [a.username for _, a in first] == ["dave", "carol"]
        rest = await list_blocks(session, alice.id, limit=2, max_id=first[-1][0].id)
        assert [a.username for _, a in rest] == ["bob"]
    assert dave.id and carol.id


async def test_domain_blocks_silence_and_suspension(spark: Spark) -> None:
    alice, bob, carol = [await spark.user(n) for n in ("alice", "bob", "carol")]
    async with spark.db.write() as session:
        remote = Account(
            username="eve",
            domain="Remote.Example",
            uri="https://remote.example/users/eve",
            inbox_url="https://remote.example/users/eve/inbox",
            public_key_id="https://remote.example/users/eve#main-key",
            public_key_pem="unused",
            fetched_at=utcnow(),
        )
        session.add(remote)
        await session.flush()
        session.add(
            Follow(
                follower_id=remote.id,
                followee_id=alice.id,
                uri="https://remote.example/f/1",
                state="accepted",
            )
        )
    await posts.post(spark.ctx, bob, "bob in public")
    await actions.follow(spark.ctx, alice, f"carol@{spark.domain}")
    await posts.post(spark.ctx, carol, "carol in public")
    row = await safety.block_domain(spark.ctx, alice, "REMOTE.example")
    assert row.domain == "remote.example"
    async with spark.db.read() as session:
        assert (await session.exec(select(Follow).where(Follow.follower_id == remote.id))).all() == []
        assert [d.domain for d in await list_domain_blocks(session, alice.id, limit=5)] == ["remote.example"]
        assert (await relations(session, alice.id, [remote]))[remote.id].domain_blocking
        assert await search_accounts(session, "eve", 5, viewer_id=alice.id) == []
        assert [a.username for a in await search_accounts(session, "eve", 5, viewer_id=bob.id)] == ["eve"]
    await safety.unblock_domain(spark.ctx, alice, "remote.example")

    # Silenced: out of the public timelines and of search for those who do not follow; followers
    # still see the posts at home, and notifications from a silenced stranger are held back.
    await _set(spark, carol, silenced_at=utcnow())
    await _set(spark, bob, silenced_at=utcnow())
    public = await _names(spark, alice, TimelineKind.LOCAL)
    assert public == []
    assert await _names(spark, alice, TimelineKind.HOME) == [("carol", "carol")]
    await posts.post(spark.ctx, bob, "hey @alice")
    await posts.post(spark.ctx, carol, "hey @alice")
    assert await _senders(spark, alice) == {"carol"}  # bob's waits: alice does not follow him
    async with spark.db.read() as session:
        assert [a.username for a in await search_accounts(session, "carol", 5, viewer_id=alice.id)] == [
            "carol"
        ]
        assert await search_accounts(session, "carol", 5, viewer_id=bob.id) == []
        assert await search_accounts(session, "carol", 5) == []

    # Suspended: gone for everyone.
    await _set(spark, carol, silenced_at=None, suspended_at=utcnow())
    assert not any("carol" in pair for pair in await _names(spark, alice, TimelineKind.HOME))
    assert "carol" not in await _senders(spark, alice)
    async with spark.db.read() as session:
        assert await account_posts(session, alice, carol, limit=10) == []
        assert await account_posts(session, None, carol, limit=10) == []
        assert await search_accounts(session, "carol", 5, viewer_id=alice.id) == []
