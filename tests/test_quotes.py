"""Quote posts with consent (FEP-044f as Mastodon 4.5 ships it), against the Mastodon-shaped peer
and between two Sparks: asking, answering by policy, stamps served and checked, revoking."""

from typing import Any

import aiohttp
from sqlmodel import select

from outbox import posts, quotes
from spark_fed.activitystreams import PUBLIC
from spark_fed.models import Notification, Quote, QuoteState, Status

from .conftest import Spark, eventually
from .peers import FakeMastodon

AS2_ACCEPT = {"Accept": "application/activity+json"}


async def _quote_of(spark: Spark, status: Status) -> Quote | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Quote).where(Quote.status_id == status.id))).first()


async def _stored(spark: Spark, uri: str) -> Status | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Status).where(Status.uri == uri))).first()


async def _in_state(spark: Spark, status: Status, state: str) -> Quote | None:
    quote = await _quote_of(spark, status)
    return quote if quote is not None and quote.state == state else None


async def _get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as client, client.get(url, headers=AS2_ACCEPT) as response:
        body = await response.json(content_type=None) if response.status == 200 else None
        return response.status, body


async def _bob_note(spark: Spark, peer: FakeMastodon, **kwargs: Any) -> Status:
    """A note of bob's that Spark holds (fetched from the peer, as a search would)."""
    create = peer.create_note("bob", "quote me", **kwargs)
    return await spark.ctx.notes.get(create["object"]["id"])


async def test_quoting_a_mastodon_post_asks_and_an_accept_approves_it(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    quoted = await _bob_note(spark, peer)
    status = await posts.post(spark.ctx, alice, "so true", quote=quoted)
    assert (await _quote_of(spark, status)).state == QuoteState.PENDING

    request = await peer.wait_for(lambda r: r.type == "QuoteRequest", timeout=10)
    assert request.json["object"] == quoted.uri and request.json["instrument"] == status.uri
    assert request.json["actor"] == alice.uri
    create = await peer.wait_for(lambda r: r.type == "Create", timeout=10)
    note = create.json["object"]
    assert note["quote"] == note["_misskey_quote"] == note["quoteUri"] == quoted.uri
    assert "quoteAuthorization" not in note
    assert f'RE: <a href="{quoted.uri}">' in note["content"] and 'class="quote-inline"' in note["content"]
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [PUBLIC]}}
    terms = create.json["@context"][1]
    assert terms["quote"]["@id"] == "https://w3id.org/fep/044f#quote"
    assert terms["_misskey_quote"] == "https://misskey-hub.net/ns#_misskey_quote"

    quote = await eventually(
        lambda: _in_state(spark, status, QuoteState.ACCEPTED), what="the Accept to approve the quote"
    )
    assert quote.authorization_uri and quote.authorization_uri.startswith(peer.actor_id("bob"))
    update = await peer.wait_for(lambda r: r.type == "Update", timeout=10)
    assert update.json["object"]["quoteAuthorization"] == quote.authorization_uri


async def test_a_reject_leaves_the_quote_rejected(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    peer.quote_answer = "reject"
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    status = await posts.post(spark.ctx, alice, "hmm", quote=await _bob_note(spark, peer))
    quote = await eventually(lambda: _in_state(spark, status, QuoteState.REJECTED), what="the Reject")
    assert quote.authorization_uri is None


async def test_mastodon_quoting_a_spark_post_is_answered_by_policy_and_can_be_revoked(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    open_post = await posts.post(spark.ctx, alice, "quote away")
    closed_post = await posts.post(spark.ctx, alice, "not this one", quote_policy="nobody")

    create = peer.create_note("bob", "look at this", quote=open_post.uri)
    assert (await peer.send(create, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    request = peer.quote_request("bob", open_post.uri, create["object"]["id"])
    assert (await peer.send(request, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    accept = await peer.wait_for(lambda r: r.type == "Accept", timeout=10)
    assert accept.json["object"]["id"] == request["id"]
    stamp = accept.json["result"]
    status, document = await _get_json(stamp)
    assert status == 200
    assert document["type"] == "QuoteAuthorization" and document["id"] == stamp
    assert document["attributedTo"] == alice.uri
    assert document["interactingObject"] == create["object"]["id"]
    assert document["interactionTarget"] == open_post.uri
    quoting = await _stored(spark, create["object"]["id"])
    assert (await _quote_of(spark, quoting)).state == QuoteState.ACCEPTED
    async with spark.db.read() as session:
        kinds = [n.type for n in (await session.exec(select(Notification))).all()]
    assert "quote" in kinds

    refused = peer.create_note("bob", "and this", quote=closed_post.uri)
    assert (await peer.send(refused, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    request = peer.quote_request("bob", closed_post.uri, refused["object"]["id"])
    assert (await peer.send(request, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    reject = await peer.wait_for(lambda r: r.type == "Reject", timeout=10)
    assert reject.json["object"]["id"] == request["id"] and "result" not in reject.json

    await quotes.revoke(spark.ctx, alice, open_post, quoting)
    delete = await peer.wait_for(lambda r: r.type == "Delete", timeout=10)
    assert delete.json["object"] == stamp
    assert (await _get_json(stamp))[0] == 410
    assert (await _quote_of(spark, quoting)).state == QuoteState.REVOKED


async def test_a_mastodon_quote_is_approved_only_when_its_stamp_checks_out(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("bob", "carol")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    carols = peer.create_note("carol", "original thought")
    carol_uri = carols["object"]["id"]

    honest = peer.create_note("bob", "quoting carol", quote=carol_uri, mentions=[alice.uri])
    stamp = peer.authorize_quote("carol", honest["object"]["id"], carol_uri)
    honest["object"]["quoteAuthorization"] = stamp
    forged = peer.create_note(
        "bob",
        "carol surely agrees",
        quote=carol_uri,
        quote_authorization=f"{peer.actor_id('carol')}/nope/1",
        mentions=[alice.uri],
    )
    misplaced = peer.create_note("bob", "stamp for another post", quote=carol_uri, mentions=[alice.uri])
    misplaced["object"]["quoteAuthorization"] = stamp  # carol's stamp names the honest note, not this one
    for create in (honest, forged, misplaced):
        create.pop("signature", None)
        assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202

    async def settled(uri: str) -> Quote | None:
        stored = await _stored(spark, uri)
        quote = await _quote_of(spark, stored) if stored else None
        return quote if quote is not None and quote.state != QuoteState.PENDING else None

    assert (await eventually(lambda: settled(honest["object"]["id"]))).state == QuoteState.ACCEPTED
    assert (await eventually(lambda: settled(forged["object"]["id"]))).state == QuoteState.UNAUTHORIZED
    assert (await eventually(lambda: settled(misplaced["object"]["id"]))).state == QuoteState.UNAUTHORIZED


async def test_misskey_and_fedify_shaped_quotes_are_stored_unverified(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    target = await posts.post(spark.ctx, alice, "a post of alice's")
    misskey = peer.create_note("bob", "RN", mentions=[alice.uri])
    note = misskey["object"]
    note.pop("interactionPolicy")
    note["_misskey_quote"] = note["quoteUrl"] = target.uri
    misskey.pop("signature", None)
    fedify = peer.create_note("bob", "quoting, Fedify style", mentions=[alice.uri])
    fedify["object"]["quote"] = fedify["object"]["quoteUrl"] = target.uri
    fedify.pop("signature", None)
    for create in (misskey, fedify):
        assert (await peer.send(create, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    for create in (misskey, fedify):
        stored = await eventually(lambda c=create: _stored(spark, c["object"]["id"]), what="the quote")
        quote = await _quote_of(spark, stored)
        assert quote.quoted_status_id == target.id and quote.state == QuoteState.PENDING


async def test_spark_quotes_spark_with_consent(start_spark) -> None:
    one = await start_spark()
    two = await start_spark()
    alice = await one.user("alice")
    bob = await two.user("bob")
    original = await posts.post(two.ctx, bob, "from the other Spark")
    copy = await one.ctx.notes.get(original.uri)
    quoting = await posts.post(one.ctx, alice, "worth reading", quote=copy)
    quote = await eventually(
        lambda: _in_state(one, quoting, QuoteState.ACCEPTED), what="bob's Spark to approve"
    )
    status, document = await _get_json(quote.authorization_uri)
    assert status == 200 and document["interactingObject"] == quoting.uri
    # bob's Spark stored alice's post with the quote approved by its own stamp.
    stored = await eventually(lambda: _stored(two, quoting.uri), what="alice's post on bob's Spark")
    theirs = await _quote_of(two, stored)
    assert theirs.state == QuoteState.ACCEPTED and theirs.authorization_uri == quote.authorization_uri
