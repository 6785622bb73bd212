"""Domain blocks against the Mastodon-shaped peer: suspend (refused before any key fetch, content
purged, no deliveries), silence (out of the public timelines), reject-media (no proxy), the CSV
import of Mastodon's export, and the public listing."""

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from outbox import moderation
from spark_fed import domain_policy
from spark_fed.delivery import DeliverySender
from spark_fed.errors import UsageError
from spark_fed.models import Account, Delivery, DomainBlock, Follow, InboxItem, MediaAttachment, Status
from spark_fed.models.media import FetchState
from spark_fed.queries.timelines import TimelineKind, timeline
from spark_fed.queue import GiveUp

from .conftest import Spark, eventually
from .peers import FakeMastodon

# Written by hand in the shape of Mastodon's admin export (Admin::ExportDomainBlocksController).
MASTODON_EXPORT = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,true,true,Spam factory,false
loud.example,silence,false,false,,false
pics.example,noop,true,false,Unlabelled gore,true
harmless.example,noop,false,false,,false
Sub.Tricky.Example:8443,suspend,false,false,"Comment, with a comma",false
"""


async def _count(spark: Spark, query) -> int:
    async with spark.db.read() as session:
        return (await session.exec(query)).one()


async def _peer_account(spark: Spark, peer: FakeMastodon, name: str) -> Account | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Account).where(Account.uri == peer.actor_id(name)))).first()


async def _statuses_of(spark: Spark, account_id: int) -> int:
    return await _count(
        spark, select(func.count()).select_from(Status).where(Status.account_id == account_id)
    )


def _key_fetches(peer: FakeMastodon, name: str) -> int:
    return sum(1 for record in peer.fetch_log if record.path.split("?")[0] == f"/users/{name}")


async def test_domain_suspension_refuses_before_key_fetch_and_purges(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    assert (await peer.follow_remote("bob", alice.uri)).status == 202
    await peer.wait_for(lambda r: r.type == "Accept")
    note = peer.create_note("bob", "before the block", mentions=[alice.uri])
    assert (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 202
    bob = await _peer_account(spark, peer, "bob")
    assert bob is not None

    async def stored() -> bool:
        return await _statuses_of(spark, bob.id) == 1

    await eventually(stored, what="bob's note to be stored")

    block = await moderation.block_domain(spark.ctx, None, peer.domain, severity="suspend", reason="spam")
    assert block.domain == peer.domain
    assert await _statuses_of(spark, bob.id) == 0
    follows = (
        select(func.count())
        .select_from(Follow)
        .where((col(Follow.follower_id) == bob.id) | (col(Follow.followee_id) == bob.id))
    )
    assert await _count(spark, follows) == 0

    # A new actor of the suspended server: refused with 403 before its key is ever fetched.
    peer.add_account("carol")
    items_before = await _count(spark, select(func.count()).select_from(InboxItem))
    fetches_before = len(peer.fetch_log)
    fresh = peer.create_note("carol", "after the block", mentions=[alice.uri])
    answer = await peer.send(fresh, f"{spark.base}/users/alice/inbox", "carol")
    assert answer.status == 403, answer.body
    assert "error" in answer.json()
    again = peer.create_note("bob", "bob again")
    assert (await peer.send(again, f"{spark.base}/inbox", "bob")).status == 403
    assert len(peer.fetch_log) == fetches_before
    assert _key_fetches(peer, "carol") == 0
    assert await _count(spark, select(func.count()).select_from(InboxItem)) == items_before

    # No deliveries: a job for the suspended server is given up without a request.
    sender = DeliverySender(spark.db, spark.ctx.signed)
    job = Delivery(sender_id=alice.id, inbox_url=peer.inbox_url("bob"), activity_id="urn:x", body="{}")
    received = len(peer.inbox_log)
    with pytest.raises(GiveUp):
        await sender(job)
    assert len(peer.inbox_log) == received

    await moderation.unblock_domain(spark.ctx, None, peer.domain)
    later = peer.create_note("bob", "after the unblock", mentions=[alice.uri])
    assert (await peer.send(later, f"{spark.base}/inbox", "bob")).status == 202


async def test_suspended_remote_actor_is_refused_and_purged(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob", "dave")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    note = peer.create_note("bob", "hello", mentions=[alice.uri])
    assert (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 202
    bob = await _peer_account(spark, peer, "bob")

    async def stored() -> bool:
        return await _statuses_of(spark, bob.id) == 1

    await eventually(stored, what="bob's note")
    await moderation.suspend(spark.ctx, None, bob, reason="harassment")
    assert await _statuses_of(spark, bob.id) == 0
    refused = await peer.send(peer.create_note("bob", "again"), f"{spark.base}/inbox", "bob")
    assert refused.status == 403
    # The rest of the server is not concerned.
    other = await peer.send(
        peer.create_note("dave", "hi", mentions=[alice.uri]), f"{spark.base}/inbox", "dave"
    )
    assert other.status == 202
    await moderation.unsuspend(spark.ctx, None, bob)
    back = await peer.send(peer.create_note("bob", "back"), f"{spark.base}/inbox", "bob")
    assert back.status == 202


async def test_silenced_domain_stays_out_of_public_timelines(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    note = peer.create_note("bob", "a public post from a loud server", mentions=[alice.uri])
    assert (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 202
    bob = await _peer_account(spark, peer, "bob")

    async def stored() -> bool:
        return await _statuses_of(spark, bob.id) == 1

    await eventually(stored, what="bob's note")

    async def federated() -> list[str]:
        async with spark.db.read() as session:
            items = await timeline(session, alice, TimelineKind.FEDERATED, limit=20)
        return [item.status.uri for item in items]

    assert note["object"]["id"] in await federated()
    await moderation.block_domain(spark.ctx, None, peer.domain, severity="silence")
    assert domain_policy.severity_of(peer.domain, spark.db) == "silence"
    assert note["object"]["id"] not in await federated()
    assert await _statuses_of(spark, bob.id) == 1  # silenced, not purged
    # Silence refuses nothing.
    assert (
        await peer.send(peer.create_note("bob", "still here"), f"{spark.base}/inbox", "bob")
    ).status == 202


async def test_reject_media_stops_the_proxy(spark: Spark, aiohttp_server) -> None:
    hits: list[str] = []

    async def image(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=404)

    files = web.Application()
    files.router.add_get("/{name}", image)
    server = await aiohttp_server(files)
    domain = f"127.0.0.1:{server.port}"
    async with spark.db.write() as session:
        owner = Account(
            uri=f"http://{domain}/users/pat",
            username="pat",
            domain=domain,
            inbox_url=f"http://{domain}/users/pat/inbox",
            public_key_id=f"http://{domain}/users/pat#main-key",
            public_key_pem="-",
        )
        session.add(owner)
        await session.flush()
        rows = [
            MediaAttachment(
                account_id=owner.id,
                local=False,
                remote_url=f"http://{domain}/{name}.png",
                fetch_state=FetchState.PENDING,
            )
            for name in ("one", "two")
        ]
        session.add_all(rows)
    await moderation.block_domain(spark.ctx, None, domain, severity="reject-media")
    assert await spark.ctx.media.fetch_remote(rows[0].id) is None
    assert hits == []
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{spark.base}/media/{rows[0].id}/original") as got,
    ):
        assert got.status == 404
    assert hits == []
    await moderation.unblock_domain(spark.ctx, None, domain)
    assert await spark.ctx.media.fetch_remote(rows[1].id) is None  # 404 there, but asked
    assert hits == ["/two.png"]


async def test_import_of_mastodons_export(spark: Spark) -> None:
    imported = await moderation.import_domain_blocks(spark.ctx, None, MASTODON_EXPORT)
    assert imported == 4
    async with spark.db.read() as session:
        blocks = {b.domain: b for b in (await session.exec(select(DomainBlock))).all()}
    assert {d: b.severity for d, b in blocks.items()} == {
        "spam.example": "suspend",
        "loud.example": "silence",
        "pics.example": "reject-media",
        "sub.tricky.example:8443": "suspend",
    }
    assert blocks["sub.tricky.example:8443"].public_comment == "Comment, with a comma"
    assert domain_policy.is_suspended("a.spam.example:443", spark.db)
    assert domain_policy.is_suspended("x.sub.tricky.example:8443", spark.db)
    assert not domain_policy.is_suspended("sub.tricky.example:9000", spark.db)
    assert domain_policy.rejects_media("cdn.pics.example", spark.db)
    # Importing again changes nothing.
    assert await moderation.import_domain_blocks(spark.ctx, None, MASTODON_EXPORT) == 0
    with pytest.raises(UsageError):
        await moderation.import_domain_blocks(spark.ctx, None, "#domain,#severity\nnot a domain!,suspend\n")
    with pytest.raises(UsageError):
        await moderation.import_domain_blocks(spark.ctx, None, "#domain,#severity\nok.example,obliterate\n")

    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{spark.base}/api/v1/instance/domain_blocks") as got,
    ):
        assert got.status == 200
        listed = await got.json()
    spam = next(item for item in listed if item["domain"] == "spam.example")
    assert spam["severity"] == "suspend"
    assert spam["comment"] == "Spam factory"
    assert len(spam["digest"]) == 64
    # Media-only blocks are not listed, as Mastodon lists only what limits its users' view.
    assert {item["severity"] for item in listed} == {"suspend", "silence"}
    assert "pics.example" not in {item["domain"] for item in listed}
    assert not any("reason" in item for item in listed)


async def test_bad_domain_blocks(spark: Spark) -> None:
    with pytest.raises(UsageError):
        await moderation.block_domain(spark.ctx, None, "no spaces please")
    with pytest.raises(UsageError):
        await moderation.block_domain(spark.ctx, None, "ok.example", severity="obliterate")
    with pytest.raises(UsageError):
        await moderation.block_domain(spark.ctx, None, spark.domain, severity="suspend")
    with pytest.raises(UsageError):
        await moderation.unblock_domain(spark.ctx, None, "never.example")
    alice = await spark.user("alice")
    with pytest.raises(moderation.NotModerator):
        await moderation.block_domain(spark.ctx, alice, "ok.example")
    await moderation.set_role(spark.ctx, alice, "moderator")
    block = await moderation.block_domain(spark.ctx, alice, "HTTPS://OK.Example/", severity="suspend")
    assert block.domain == "ok.example"
    # Blocking again changes the severity in place.
    block = await moderation.block_domain(spark.ctx, alice, "ok.example")
    async with spark.db.read() as session:
        rows = (await session.exec(select(DomainBlock))).all()
    assert [(b.domain, b.severity) for b in rows] == [("ok.example", "silence")]


def test_candidates_and_normalising() -> None:
    assert domain_policy.candidates("a.b.example:8443") == [
        "a.b.example:8443",
        "a.b.example",
        "b.example:8443",
        "b.example",
        "example:8443",
        "example",
    ]
    assert domain_policy.normalize_domain("@bob@Example.Social") == "example.social"
    assert domain_policy.normalize_domain("example.social:99999") == ""
    assert domain_policy.normalize_domain("bücher.example") == "xn--bcher-kva.example"
    policy = domain_policy.DomainPolicy({"example.social": "silence", "bad.example.social": "suspend"})
    assert policy.severity_of("bad.example.social:443") == "suspend"
    assert policy.severity_of("good.example.social") == "silence"
    assert policy.severity_of("notexample.social") is None
    # A bare host is blocked on every port; a host:port only on that port.
    assert policy.severity_of("example.social:8443") == "silence"
    assert domain_policy.DomainPolicy({"h.example:1": "suspend"}).severity_of("h.example:2") is None
