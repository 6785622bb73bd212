"""Notes from the independent Mastodon-shaped peer: what Spark keeps, cleans and refuses."""

from sqlmodel import select

from outbox import actions, posts
from spark_fed.models import Follow, FollowState, Notification, Status

from .conftest import Spark, eventually
from .peers import FakeMastodon


async def _statuses(spark: Spark) -> list[Status]:
    async with spark.db.read() as session:
        return list((await session.exec(select(Status))).all())


async def _follow_peer(spark: Spark, peer: FakeMastodon) -> None:
    """alice follows bob, and both sides know it (Spark only keeps notes of accounts it follows)."""
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")

    async def accepted_here() -> bool:
        async with spark.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted_here, what="Mastodon's Accept to be processed")


async def test_a_followed_mastodon_users_note_is_stored_and_sanitised(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    await _follow_peer(spark, peer)
    hostile = (
        '<p>hi <script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">x</a> <a href="https://ok.example/" onclick="bad()">ok</a></p>'
    )
    create = peer.create_note("bob", content=hostile)
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202
    [stored] = await eventually(lambda: _statuses(spark), what="the note to be stored")
    assert stored.uri == create["object"]["id"]
    for banned in ("<script", "alert(1)", "onerror", "javascript:", "onclick", "<img"):
        assert banned not in stored.content
    assert 'href="https://ok.example/"' in stored.content and "hi" in stored.content


async def test_unsolicited_notes_are_dropped_and_mentions_kept(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    stranger = peer.create_note("bob", "nobody here asked for this")
    assert (await peer.send(stranger, f"{spark.base}/inbox", "bob")).status == 202
    mention = peer.create_note("bob", "hello", mentions=[alice.uri], visibility="direct")
    assert (await peer.send(mention, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    [stored] = await eventually(lambda: _statuses(spark), what="the mention to be stored")
    assert stored.uri == mention["object"]["id"] and stored.visibility == "direct"
    async with spark.db.read() as session:
        assert [n.type for n in (await session.exec(select(Notification))).all()] == ["mention"]


async def test_forged_authorship_is_refused(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    by_carol = peer.create_note("carol", "words put in carol's mouth", mentions=[alice.uri])
    by_carol["actor"] = peer.actor_id("bob")  # bob delivers carol's note as his own Create
    assert (await peer.send(by_carol, f"{spark.base}/inbox", "bob")).status == 202
    elsewhere = peer.create_note("bob", "an id on another server", mentions=[alice.uri])
    elsewhere["object"]["id"] = "https://elsewhere.example/notes/1"
    assert (await peer.send(elsewhere, f"{spark.base}/inbox", "bob")).status == 202
    honest = peer.create_note("bob", "really mine", mentions=[alice.uri])
    assert (await peer.send(honest, f"{spark.base}/inbox", "bob")).status == 202
    stored = await eventually(lambda: _statuses(spark), what="the honest note to be stored")
    assert [s.uri for s in stored] == [honest["object"]["id"]]


async def test_a_spark_post_reaches_a_mastodon_follower(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await peer.follow_remote("bob", alice.uri)
    await peer.wait_for(lambda r: r.type == "Accept" and r.verified)
    status = await posts.post(spark.ctx, alice, f"Hello @bob@{peer.domain} #spark", cw="greeting")
    record = await peer.wait_for(lambda r: r.type == "Create" and (r.verified or r.error is not None))
    assert record.verified, record.error
    note = record.json["object"]
    assert note["id"] == status.uri and note["attributedTo"] == alice.uri
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert alice.followers_url in note["cc"] and peer.actor_id("bob") in note["cc"]
    assert note["summary"] == "greeting" and note["sensitive"] is True
    kinds = {tag["type"]: tag for tag in note["tag"]}
    assert kinds["Mention"]["href"] == peer.actor_id("bob")
    assert kinds["Hashtag"]["name"] == "#spark"
    assert 'class="u-url mention"' in note["content"]


async def test_missing_reply_parent_is_fetched(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    parent = peer.create_note("carol", "the start of a thread")  # served by the peer, never delivered
    reply = peer.create_note("bob", "a reply", mentions=[alice.uri], in_reply_to=parent["object"]["id"])
    assert (await peer.send(reply, f"{spark.base}/inbox", "bob")).status == 202

    async def both() -> list[Status] | None:
        rows = await _statuses(spark)
        return rows if len(rows) == 2 else None

    rows = {s.uri: s for s in await eventually(both, what="the reply and its fetched parent")}
    stored_parent = rows[parent["object"]["id"]]
    assert rows[reply["object"]["id"]].in_reply_to_id == stored_parent.id
    assert stored_parent.replies_count == 1


async def test_announce_of_a_remote_note_is_fetched_from_its_origin(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    await _follow_peer(spark, peer)
    original = peer.create_note("carol", "worth boosting")
    boost = peer.announce("bob", original["object"]["id"], peer.actor_id("carol"))
    assert (await peer.send(boost, f"{spark.base}/inbox", "bob")).status == 202

    async def boosted() -> list[Status] | None:
        rows = await _statuses(spark)
        return rows if len(rows) == 2 else None

    rows = {s.uri: s for s in await eventually(boosted, what="the boosted note to be fetched")}
    note = rows[original["object"]["id"]]
    assert rows[boost["id"]].reblog_of_id == note.id
    assert "worth boosting" in note.content
    fetched = [f for f in peer.fetch_log if f.path.endswith(original["object"]["id"].rsplit("/", 1)[1])]
    assert fetched and all(f.signed for f in fetched)


async def test_mastodon_delete_removes_the_note(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    await _follow_peer(spark, peer)
    create = peer.create_note("bob", "soon gone")
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202
    await eventually(lambda: _statuses(spark), what="the note to be stored")
    delete = peer.delete_note("bob", create["object"]["id"])
    assert (await peer.send(delete, f"{spark.base}/inbox", "bob")).status == 202

    async def gone() -> bool:
        return await _statuses(spark) == []

    await eventually(gone, what="the Delete to remove the note")
    # A replayed Create of a deleted note does not bring it back.
    replay = dict(create, id=create["id"] + "-again")
    assert (await peer.send(replay, f"{spark.base}/inbox", "bob")).status == 202
    await peer.send(peer.create_note("bob", "a later note"), f"{spark.base}/inbox", "bob")

    async def later_only() -> list[Status] | None:
        rows = await _statuses(spark)
        return rows if rows else None

    assert [s.uri for s in await eventually(later_only)] != [create["object"]["id"]]
    assert create["object"]["id"] not in [s.uri for s in await _statuses(spark)]
