"""Spark against the independent Mastodon-shaped peer: follows both ways, signatures both ways."""

import pytest
from sqlmodel import select

from outbox import actions
from spark_fed.models import Account, Follow, FollowState

from .conftest import Spark, eventually
from .peers import FakeMastodon


def _settled(kind: str):
    """An inbox record of KIND whose verification has finished, either way."""
    return lambda r: r.type == kind and (r.verified or r.error is not None)


async def _follow_rows(spark: Spark) -> list[tuple[Follow, Account]]:
    async with spark.db.read() as session:
        query = select(Follow, Account).join(Account, Account.id == Follow.follower_id)
        return list((await session.exec(query)).all())


@pytest.mark.parametrize("version", ["4.6.5", "4.7.0"])
async def test_mastodon_user_follows_spark_user_and_verifies_the_accept(
    spark: Spark, aiohttp_server, version: str
) -> None:
    peer = FakeMastodon("bob", version=version)
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    sent = await peer.follow_remote("bob", alice.uri)
    assert sent.status == 202, sent.body
    record = await peer.wait_for(_settled("Accept"))
    assert record.verified, record.error
    assert record.signer == alice.uri
    accept = record.json
    assert accept["actor"] == alice.uri
    # The Follow comes back exactly as Mastodon sent it: its id is what Mastodon matches.
    assert accept["object"] == peer.accounts["bob"].following[alice.uri].activity
    assert peer.following_state("bob", alice.uri) == "accepted"
    assert record.headers["Content-Type"].startswith("application/activity+json")
    assert record.headers["Digest"].startswith("SHA-256=")
    rows = await _follow_rows(spark)
    assert [(f.state, a.uri) for f, a in rows] == [(FollowState.ACCEPTED, peer.actor_id("bob"))]

    await peer.unfollow_remote("bob", alice.uri)

    async def no_followers() -> bool:
        return await _follow_rows(spark) == []

    await eventually(no_followers, what="Undo(Follow) to remove the follower")


async def test_spark_user_follows_mastodon_user(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")
    record = await peer.wait_for(_settled("Follow"))
    assert record.verified, record.error
    assert record.accepted
    assert record.json["object"] == peer.actor_id("bob")

    async def accepted() -> bool:
        async with spark.db.read() as session:
            follow = (await session.exec(select(Follow))).one()
        return follow.state == FollowState.ACCEPTED

    await eventually(accepted, what="Mastodon's Accept to be processed")
    await actions.unfollow(spark.ctx, alice, peer.actor_id("bob"))
    undo = await peer.wait_for(_settled("Undo"))
    assert undo.verified, undo.error
    assert undo.json["object"]["type"] == "Follow"
    assert undo.json["object"]["id"] == record.json["id"]

    async def peer_forgot() -> bool:
        return alice.uri not in peer.accounts["bob"].followers

    await eventually(peer_forgot, what="the peer to drop its follower")


async def test_following_an_authorized_fetch_server_signs_every_get(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", authorized_fetch=True)
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")
    await peer.wait_for(_settled("Follow"))
    actor_fetches = [f for f in peer.fetch_log if f.path == "/users/bob"]
    assert actor_fetches and all(f.signed and f.verified for f in actor_fetches)


async def test_locked_spark_account_with_mastodon_follower(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice", locked=True)
    await peer.follow_remote("bob", alice.uri)

    async def pending() -> bool:
        rows = await _follow_rows(spark)
        return bool(rows) and rows[0][0].state == FollowState.PENDING

    await eventually(pending)
    assert not [r for r in peer.inbox_log if r.type == "Accept"]
    await actions.answer_follow_request(spark.ctx, alice, f"bob@{peer.domain}", accept=True)
    record = await peer.wait_for(_settled("Accept"))
    assert record.verified
    assert peer.following_state("bob", alice.uri) == "accepted"


async def test_actor_delete_and_profile_update(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await peer.follow_remote("bob", alice.uri)
    await peer.wait_for(_settled("Accept"))
    peer.accounts["bob"].display_name = "Robert"
    assert (await peer.send(peer.update_person("bob"), spark.base + "/inbox", "bob")).status == 202

    async def renamed() -> bool:
        rows = await _follow_rows(spark)
        return bool(rows) and rows[0][1].display_name == "Robert"

    await eventually(renamed, what="Update(Person) to refresh the stored actor")
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor_id('bob')}#delete",
        "type": "Delete",
        "actor": peer.actor_id("bob"),
        "object": peer.actor_id("bob"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    assert (await peer.send(delete, spark.base + "/inbox", "bob")).status == 202

    async def gone() -> bool:
        return await _follow_rows(spark) == []

    await eventually(gone, what="Delete(actor) to remove its follows")


async def test_an_undo_right_after_its_follow_is_processed_after_it(spark: Spark, aiohttp_server) -> None:
    """One actor's activities are processed in the order they arrived."""
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    for _ in range(3):
        assert (await peer.follow_remote("bob", alice.uri)).status == 202
        assert (await peer.unfollow_remote("bob", alice.uri)).status == 202
    await peer.follow_remote("bob", alice.uri)

    async def one_follower() -> bool:
        rows = await _follow_rows(spark)
        return len(rows) == 1 and rows[0][0].state == FollowState.ACCEPTED

    await eventually(one_follower, what="the last Follow to win")
    await peer.unfollow_remote("bob", alice.uri)

    async def none() -> bool:
        return await _follow_rows(spark) == []

    await eventually(none, what="the final Undo to remove the follower")
