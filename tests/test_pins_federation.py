"""Pinned posts on the wire: the `featured` collection served and read, `Add`/`Remove` sent and
received, with the Mastodon-shaped peer and between two Sparks."""

from sqlmodel import select

from outbox import actions, pins, posts
from spark_fed.models import Account, Status, StatusPin
from spark_fed.queries.statuses import followers_of

from .conftest import Spark, eventually
from .peers import FakeMastodon


async def _account(spark: Spark, uri: str) -> Account | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Account).where(Account.uri == uri))).first()


async def _pinned_uris(spark: Spark, account_uri: str) -> list[str]:
    """The URIs of the posts Spark shows pinned on ACCOUNT_URI's profile, newest pin first."""
    async with spark.db.read() as session:
        rows = await session.exec(
            select(Status.uri)
            .join(StatusPin, StatusPin.status_id == Status.id)
            .join(Account, Account.id == StatusPin.account_id)
            .where(Account.uri == account_uri)
            .order_by(StatusPin.id.desc())
        )
        return list(rows.all())


async def test_mastodon_pins_are_read_from_featured_and_follow_add_and_remove(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    try:
        first = peer.create_note("carol", "pinned before we met")["object"]["id"]
        second = peer.create_note("carol", "pinned later")["object"]["id"]
        peer.pin("carol", first)
        bob = await spark.user("bob")
        # Meeting carol (a follow looks her up) queues the read of her featured collection.
        await actions.follow(spark.ctx, bob, peer.acct("carol"))
        carol_uri = peer.actor_id("carol")

        async def read() -> bool:
            return await _pinned_uris(spark, carol_uri) == [first]

        await eventually(read, what="carol's featured collection to be read")
        carol = await _account(spark, carol_uri)
        assert carol is not None and carol.featured_url == peer.featured_url("carol")

        assert (await peer.send(peer.pin("carol", second), f"{spark.base}/inbox", "carol")).status == 202

        async def added() -> bool:
            return await _pinned_uris(spark, carol_uri) == [second, first]

        await eventually(added, what="carol's Add to featured")
        assert (await peer.send(peer.unpin("carol", first), f"{spark.base}/inbox", "carol")).status == 202

        async def removed() -> bool:
            return await _pinned_uris(spark, carol_uri) == [second]

        await eventually(removed, what="carol's Remove from featured")
    finally:
        await peer.close()


async def test_add_to_another_collection_or_of_anothers_post_pins_nothing(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("carol")
    peer.add_account("dave")
    await peer.start(aiohttp_server)
    try:
        bob = await spark.user("bob")
        await actions.follow(spark.ctx, bob, peer.acct("carol"))
        carol_uri = peer.actor_id("carol")

        async def known() -> bool:
            return await _account(spark, carol_uri) is not None

        await eventually(known, what="carol to be known")
        daves = peer.create_note("dave", "not carol's")["object"]["id"]
        carols = peer.create_note("carol", "carol's")["object"]["id"]
        elsewhere = {**peer.pin("carol", carols), "target": f"{carol_uri}/collections/tags"}
        not_hers = peer.pin("carol", daves)
        for activity in (elsewhere, not_hers):
            assert (await peer.send(activity, f"{spark.base}/inbox", "carol")).status == 202
        # A later, proper Add arrives after the two: once it shows, the others were processed.
        third = peer.create_note("carol", "this one")["object"]["id"]
        await peer.send(peer.pin("carol", third), f"{spark.base}/inbox", "carol")

        async def settled() -> bool:
            return third in await _pinned_uris(spark, carol_uri)

        await eventually(settled, what="the proper Add")
        assert daves not in await _pinned_uris(spark, carol_uri)
    finally:
        await peer.close()


async def test_spark_serves_featured_and_sends_add_and_remove_to_mastodon(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    try:
        alice = await spark.user("alice")
        await peer.follow_remote("carol", alice.uri)

        async def followed() -> bool:
            return peer.following_state("carol", alice.uri) == "accepted"

        await eventually(followed, what="alice to accept carol")
        note = await posts.post(spark.ctx, alice, "my best post")
        await pins.pin(spark.ctx, alice, note.id)
        add = await peer.wait_for(lambda r: r.type == "Add", timeout=10)
        actor = await peer.fetch_actor(alice.uri, refresh=True)
        assert actor["featured"] == f"{alice.uri}/collections/featured"
        assert add.json["target"] == actor["featured"] and add.json["object"] == note.uri
        assert add.json["actor"] == alice.uri
        featured = await peer.fetch_resource(actor["featured"], as_user="carol")
        assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 1
        assert [n["id"] for n in featured["orderedItems"]] == [note.uri]
        assert featured["orderedItems"][0]["type"] == "Note"
        await pins.unpin(spark.ctx, alice, note.id)
        remove = await peer.wait_for(lambda r: r.type == "Remove", timeout=10)
        assert remove.json["object"] == note.uri and remove.json["target"] == actor["featured"]
        assert (await peer.fetch_resource(actor["featured"], as_user="carol"))["orderedItems"] == []
    finally:
        await peer.close()


async def test_a_pin_goes_from_spark_to_spark(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice = await a.user("alice")
    early = await posts.post(a.ctx, alice, "pinned before bob came")
    await pins.pin(a.ctx, alice, early.id)
    bob = await b.user("bob")
    await actions.follow(b.ctx, bob, f"alice@{a.domain}")

    async def read() -> bool:
        return await _pinned_uris(b, alice.uri) == [early.uri]

    await eventually(read, what="bob's server to read alice's featured collection")

    async def follower() -> bool:
        async with a.db.read() as session:
            return bool(await followers_of(session, alice.id, local=False))

    await eventually(follower, what="alice's server to hear bob's follow")
    later = await posts.post(a.ctx, alice, "pinned while bob follows")
    await pins.pin(a.ctx, alice, later.id)

    async def added() -> bool:
        return await _pinned_uris(b, alice.uri) == [later.uri, early.uri]

    await eventually(added, what="alice's Add")
    await pins.unpin(a.ctx, alice, early.id)

    async def removed() -> bool:
        return await _pinned_uris(b, alice.uri) == [later.uri]

    await eventually(removed, what="alice's Remove")
