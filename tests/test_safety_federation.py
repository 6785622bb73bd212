"""Blocks, mutes and reports on the wire: two Spark instances, and the independent Mastodon-shaped peer."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from outbox import actions, posts, safety
from spark_fed.errors import UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.models import Account, Block, Delivery, Follow, FollowState, Report, Status
from spark_fed.queries.accounts import find_by_uri
from spark_fed.queries.timelines import TimelineKind, notifications, timeline

from .conftest import Spark, eventually
from .peers import FakeMastodon
from .peers import safety as peer_safety
from .rows import count_rows


async def _rows(spark: Spark, model) -> list:
    async with spark.db.read() as session:
        return list((await session.exec(select(model))).all())


async def _accepted(spark: Spark) -> bool:
    rows = await _rows(spark, Follow)
    return bool(rows) and all(f.state == FollowState.ACCEPTED for f in rows)


async def _drained(spark: Spark) -> bool:
    return await count_rows(spark, Delivery) == 0


def _settled(kind: str):
    return lambda r: r.type == kind and (r.verified or r.error is not None)


async def _peer_follows(spark: Spark, peer: FakeMastodon, alice: Account) -> None:
    """bob@peer follows alice (accepted), and alice follows bob (accepted)."""
    await peer.follow_remote("bob", alice.uri)
    await peer.wait_for(_settled("Accept"))
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")

    async def both() -> bool:
        rows = await _rows(spark, Follow)
        return len(rows) == 2 and all(f.state == FollowState.ACCEPTED for f in rows)

    await eventually(both, what="follows both ways")


async def test_a_block_federates_between_two_instances_and_unblock_undoes_it(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice = await a.user("alice")
    bob = await b.user("bob")
    await actions.follow(b.ctx, bob, f"alice@{a.domain}")
    await actions.follow(a.ctx, alice, f"bob@{b.domain}")

    async def follows_both_ways() -> bool:
        return len(await _rows(a, Follow)) == 2 and await _accepted(a) and await _accepted(b)

    await eventually(follows_both_ways, what="follows both ways")

    row = await safety.block(a.ctx, alice, f"bob@{b.domain}")
    assert row.uri.startswith(f"{alice.uri}#blocks/")
    assert await _rows(a, Follow) == []  # both ways, at once

    async def blocked_on_b() -> list[Block]:
        return await _rows(b, Block)

    [received] = await eventually(blocked_on_b, what="the Block to reach B")
    assert received.uri == row.uri
    assert await _rows(b, Follow) == []
    async with b.db.read() as session:
        stored_alice = await find_by_uri(session, alice.uri)
    assert (received.account_id, received.target_account_id) == (stored_alice.id, bob.id)

    # B now sends alice nothing of bob's: a mention of her is not delivered, so A never stores it.
    mention = await posts.post(b.ctx, bob, f"hey @alice@{a.domain}")
    await eventually(lambda: _drained(b), what="B's queue to drain")
    await asyncio.sleep(0.5)
    async with a.db.read() as session:
        assert (await session.exec(select(Status).where(Status.uri == mention.uri))).first() is None
        assert await notifications(session, alice, limit=20) == []
        assert await timeline(session, alice, TimelineKind.MENTIONS, limit=20) == []

    # A follow request from bob is refused now; a follow by alice of bob too.
    with pytest.raises(UsageError):
        await actions.follow(a.ctx, alice, f"bob@{b.domain}")
    with pytest.raises(UsageError):
        await actions.follow(b.ctx, bob, f"alice@{a.domain}")  # B knows of alice's block

    await safety.unblock(a.ctx, alice, f"bob@{b.domain}")
    assert await _rows(a, Block) == []

    async def unblocked_on_b() -> bool:
        return await _rows(b, Block) == []

    await eventually(unblocked_on_b, what="the Undo(Block) to reach B")


async def test_block_sends_mastodons_block_and_undo(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await _peer_follows(spark, peer, alice)
    await eventually(lambda: _drained(spark))
    before = len(peer.inbox_log)
    row = await safety.block(spark.ctx, alice, f"@bob@{peer.domain}")
    again = await safety.block(spark.ctx, alice, peer.actor_id("bob"))  # a duplicate: a no-op
    assert again.id == row.id and again.uri == row.uri
    record = await peer.wait_for(_settled("Block"))
    assert record.verified and record.accepted and record.signer == alice.uri
    assert record.path == "/users/bob/inbox"  # personal inbox, as Mastodon delivers a Block
    assert record.json["id"] == row.uri
    assert record.json["actor"] == alice.uri and record.json["object"] == peer.actor_id("bob")
    assert await _rows(spark, Follow) == []
    await eventually(lambda: _drained(spark))
    await asyncio.sleep(0.3)
    # Only the Block went out: no Undo(Follow), no Reject, and one Block for two calls.
    assert [r.type for r in peer.inbox_log[before:]] == ["Block"]

    await safety.unblock(spark.ctx, alice, f"bob@{peer.domain}")
    undo = await peer.wait_for(_settled("Undo"))
    assert undo.verified
    assert undo.json["object"]["type"] == "Block" and undo.json["object"]["id"] == row.uri
    await safety.unblock(spark.ctx, alice, f"bob@{peer.domain}")  # nothing to undo: nothing sent
    await eventually(lambda: _drained(spark))
    assert [r.type for r in peer.inbox_log[before:]] == ["Block", "Undo"]


async def test_a_blocked_accounts_follow_request_is_refused(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await safety.block(spark.ctx, alice, f"bob@{peer.domain}")
    await peer.wait_for(_settled("Block"))
    assert (await peer.follow_remote("bob", alice.uri)).status == 202
    reject = await peer.wait_for(_settled("Reject"))
    assert reject.verified and reject.json["actor"] == alice.uri
    assert peer.following_state("bob", alice.uri) == "rejected"
    assert await _rows(spark, Follow) == []


async def test_a_blocked_mention_is_hidden_and_a_mute_sends_nothing(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await _peer_follows(spark, peer, alice)
    await actions.follow(spark.ctx, alice, f"carol@{peer.domain}")
    await eventually(lambda: _accepted(spark))

    async def stored(n: int):
        async def check() -> bool:
            return len(await _rows(spark, Status)) >= n

        return await eventually(check, what=f"{n} statuses stored")

    for who in ("bob", "carol"):
        assert (await peer.send(peer.create_note(who, f"hello from {who}"), f"{spark.base}/inbox", who)).ok
    await stored(2)

    async def home() -> set[str]:
        async with spark.db.read() as session:
            items = await timeline(session, alice, TimelineKind.HOME, limit=20)
        return {i.author.username for i in items}

    assert await home() == {"bob", "carol"}
    await eventually(lambda: _drained(spark))
    inbox_before = len(peer.inbox_log)
    muted = await safety.mute(spark.ctx, alice, f"carol@{peer.domain}")
    assert muted.notifications and muted.expires_at is None
    assert await count_rows(spark, Delivery) == 0  # nothing queued
    assert await home() == {"bob"}
    # Old and new posts alike, and a boost by bob of carol's post is hidden too.
    carol_note = peer.create_note("carol", "again")
    assert (await peer.send(carol_note, f"{spark.base}/inbox", "carol")).ok
    await stored(3)
    boost = peer.announce("bob", carol_note["object"]["id"], peer.actor_id("carol"))
    assert (await peer.send(boost, f"{spark.base}/inbox", "bob")).ok
    await stored(4)
    assert await home() == {"bob"}
    async with spark.db.read() as session:
        items = await timeline(session, alice, TimelineKind.HOME, limit=20)
    assert [i.is_boost for i in items] == [False]  # bob's note only: not his boost of carol
    await safety.unmute(spark.ctx, alice, f"carol@{peer.domain}")
    assert await home() == {"bob", "carol"}
    await asyncio.sleep(0.3)
    assert len(peer.inbox_log) == inbox_before  # the peer heard nothing of the mute

    # bob blocked: his later mention of alice is stored (it names her) but shown nowhere.
    await safety.block(spark.ctx, alice, f"bob@{peer.domain}")
    mention = peer.create_note("bob", "hey alice", mentions=[alice.uri])
    assert (await peer.send(mention, f"{spark.base}/inbox", "bob")).ok
    await stored(5)
    async with spark.db.read() as session:
        kinds = {
            (n.notification.type, n.sender.username) for n in await notifications(session, alice, limit=40)
        }
        assert not any(who == "bob" for _, who in kinds)
        assert await timeline(session, alice, TimelineKind.MENTIONS, limit=20) == []
    assert await home() == {"carol"}  # and bob's boost of carol's post is gone with bob
    async with spark.db.read() as session:
        items = await timeline(session, alice, TimelineKind.HOME, limit=20)
    assert not any(i.is_boost for i in items) and len(items) == 2


async def test_a_block_makes_a_signed_fetch_of_the_blockers_posts_404(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await peer.follow_remote("bob", alice.uri)
    await peer.wait_for(_settled("Accept"))
    private = await posts.post(spark.ctx, alice, "for my followers", visibility="followers")
    direct = await posts.post(spark.ctx, alice, f"psst @bob@{peer.domain}", visibility="direct")
    public = await posts.post(spark.ctx, alice, "for everyone")
    for status in (private, direct, public):
        assert (await peer.signed_get(status.uri, "bob")).status == 200
    await safety.block(spark.ctx, alice, f"bob@{peer.domain}")
    for status in (private, direct):
        assert (await peer.signed_get(status.uri, "bob")).status == 404
    assert (await peer.signed_get(public.uri, "bob")).status == 200  # public stays public


async def test_a_forwarded_report_arrives_as_a_signed_flag(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    note = peer.create_note("bob", "buy cheap watches", mentions=[alice.uri])
    assert (await peer.send(note, f"{spark.base}/inbox", "bob")).ok
    await eventually(lambda: _rows(spark, Status), what="the note to be stored")
    report = await safety.report(
        spark.ctx,
        alice,
        f"bob@{peer.domain}",
        status_urls=[note["object"]["id"]],
        category="spam",
        comment="spam, plainly",
        forward=True,
    )
    assert report.forwarded and report.uri.startswith(spark.ctx.instance_actor.uri)
    record = await peer.wait_for(_settled("Flag"))
    assert record.verified and record.accepted, record.error
    assert record.signer == spark.ctx.instance_actor.uri  # the reporter stays anonymous
    assert record.path == "/inbox"  # the shared inbox
    flag = record.json
    assert flag["actor"] == spark.ctx.instance_actor.uri
    assert flag["object"] == [peer.actor_id("bob"), note["object"]["id"]]
    assert flag["content"] == "spam, plainly" and flag["id"] == report.uri
    assert alice.uri not in record.body.decode()

    # Without --forward nothing is sent.
    await eventually(lambda: _drained(spark))
    flags = len(peer.received("Flag"))
    kept = await safety.report(spark.ctx, alice, f"bob@{peer.domain}", comment="local only")
    assert not kept.forwarded and kept.uri is None
    assert await count_rows(spark, Delivery) == 0
    assert len(peer.received("Flag")) == flags


async def test_an_incoming_flag_becomes_a_report(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    carol = await spark.user("carol")
    post = await posts.post(spark.ctx, alice, "something controversial")
    other = await posts.post(spark.ctx, carol, "not reported")
    inbox = f"{spark.base}/inbox"
    # Naming no local account (only the peer's own bob): dropped.
    assert (
        await peer.send(peer_safety.flag(peer, [peer.actor_id("bob")], "nope"), inbox, None)
    ).status == 202
    sent = peer_safety.flag(peer, [alice.uri, post.uri, other.uri], "please look")
    assert (await peer.send(sent, inbox, None)).status == 202
    [report] = await eventually(lambda: _rows(spark, Report), what="the Flag to become a report")
    async with spark.db.read() as session:
        reporter = await session.get(Account, report.account_id)
    assert reporter.uri == peer.instance_actor_id
    assert report.target_account_id == alice.id
    assert report.status_ids == str(post.id)  # carol's post is not alice's: not hers to answer for
    assert report.comment == "please look" and report.uri == sent["id"]
    assert len(await _rows(spark, Report)) == 1  # the first Flag stored nothing


async def test_a_block_from_the_peer_ends_follows_and_deliveries(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await _peer_follows(spark, peer, alice)
    inbox = peer.inbox_url("bob")
    # carol signs a Block that claims to be bob's: dropped by the inbox (202, nothing stored).
    forged = peer_safety.block(peer, "bob", alice.uri)
    assert (await peer.send(forged, f"{spark.base}/users/alice/inbox", "carol")).status == 202
    blocked = peer_safety.block(peer, "bob", alice.uri)
    assert (await peer.send(blocked, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    [row] = await eventually(lambda: _rows(spark, Block), what="the Block to be stored")
    assert row.uri == blocked["id"] and row.target_account_id == alice.id
    assert await _rows(spark, Follow) == []
    await eventually(lambda: _drained(spark))
    before = len([r for r in peer.inbox_log if r.path == inbox or r.path == "/inbox"])
    await posts.post(spark.ctx, alice, f"hello @bob@{peer.domain}")
    await eventually(lambda: _drained(spark))
    await asyncio.sleep(0.3)
    assert len([r for r in peer.inbox_log if r.path == inbox or r.path == "/inbox"]) == before
    undo = peer_safety.undo_block(peer, "bob", blocked)
    assert (await peer.send(undo, f"{spark.base}/users/alice/inbox", "bob")).status == 202

    async def unblocked() -> bool:
        return await _rows(spark, Block) == []

    await eventually(unblocked, what="Undo(Block) to remove it")


async def test_bad_inputs_are_clear_errors_with_nothing_stored(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    bob_here = await spark.user("bobby")
    for action in (safety.block, safety.mute, safety.unblock):
        with pytest.raises(safety.SelfTarget, match="itself"):
            await action(spark.ctx, alice, "alice")
    with pytest.raises(safety.SelfTarget):
        await safety.block(spark.ctx, alice, alice.uri)
    with pytest.raises(UsageError, match="no local user"):
        await safety.block(spark.ctx, alice, f"nobody@{spark.domain}")
    with pytest.raises(UsageError, match="no local user"):
        await safety.block(spark.ctx, alice, "nobody")
    with pytest.raises(ActorNotFound):
        await safety.block(spark.ctx, alice, f"ghost@{peer.domain}")
    with pytest.raises(UsageError):
        await safety.block(spark.ctx, alice, "not a handle at all")
    with pytest.raises(safety.SafetyError, match="positive"):
        await safety.mute(spark.ctx, alice, "bobby", duration=timedelta(0))
    with pytest.raises(safety.BadDomain):
        await safety.block_domain(spark.ctx, alice, "not a domain!")
    with pytest.raises(safety.BadDomain):
        await safety.block_domain(spark.ctx, alice, spark.domain)
    assert await _rows(spark, Block) == []

    # Reports: a deleted post, someone else's post, a category that does not exist.
    gone = await posts.post(spark.ctx, bob_here, "soon gone")
    await posts.delete(spark.ctx, bob_here, gone.uri)
    mine = await posts.post(spark.ctx, alice, "my own")
    with pytest.raises(safety.BadReport, match="deleted"):
        await safety.report(spark.ctx, alice, "bobby", status_urls=[gone.uri])
    with pytest.raises(safety.BadReport, match="not a post by"):
        await safety.report(spark.ctx, alice, "bobby", status_urls=[mine.uri])
    with pytest.raises(safety.BadReport, match="category"):
        await safety.report(spark.ctx, alice, "bobby", category="rude")
    with pytest.raises(safety.SelfTarget):
        await safety.report(spark.ctx, alice, "alice")
    assert await _rows(spark, Report) == []
    # A local report is kept, and never forwarded (there is nowhere to forward it to).
    local = await safety.report(spark.ctx, alice, "@bobby", comment="hm", forward=True)
    assert not local.forwarded and await count_rows(spark, Delivery) == 0
