"""Self-tests of the Mastodon-shaped peer: it must be right on its own before it can judge Spark.

Two peers talk to each other over loopback, and their signatures are checked a second time with ``httpsig``,
an implementation neither side shares, so the peer's signing cannot be merely self-consistent.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from httpsig.verify import HeaderVerifier

try:  # the import path depends on whether tests/ is a package (an __init__.py the lead may add)
    from tests.peers import AS, PUBLIC, FakeMastodon, PeerNetworkError
    from tests.peers.cavage import SignatureError, digest_header, parse_signature
    from tests.peers.ldsig import ld_verify
    from tests.peers.mastodon import generate_key
except ImportError:  # pragma: no cover - rootdir-relative layout
    from peers import AS, PUBLIC, FakeMastodon, PeerNetworkError  # type: ignore[no-redef]
    from peers.cavage import SignatureError, digest_header, parse_signature  # type: ignore[no-redef]
    from peers.ldsig import ld_verify  # type: ignore[no-redef]
    from peers.mastodon import generate_key  # type: ignore[no-redef]

MakePeer = Callable[..., Awaitable[FakeMastodon]]


@pytest.fixture
async def make_peer(aiohttp_server: Any) -> AsyncIterator[MakePeer]:
    """Start FakeMastodon instances on loopback and close them (draining background deliveries) afterwards."""
    started: list[FakeMastodon] = []

    async def make(*usernames: str, **options: Any) -> FakeMastodon:
        peer = FakeMastodon(*usernames, **options)
        await peer.start(aiohttp_server)
        started.append(peer)
        return peer

    yield make
    for peer in started:
        await peer.close()
        assert peer.background_errors == []


async def test_two_peers_follow_each_other_and_see_the_accept(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")

    delivery = await a.follow_remote("alice", b.actor_id("bob"))
    assert delivery.status == 202 and delivery.body == b""
    await a.wait_until(lambda: a.following_state("alice", b.actor_id("bob")) == "accepted")

    follow = b.received("Follow")[0]
    # Mastodon's Follow ids are random and not dereferenceable: https://host/<uuid>
    assert re.fullmatch(rf"{re.escape(a.origin)}/[0-9a-f-]{{36}}", follow["id"])
    assert b.accounts["bob"].followers == {a.actor_id("alice"): follow}
    accept_record = await a.wait_for(lambda r: r.type == "Accept")
    assert accept_record.path == "/users/alice/inbox"  # the follower's personal inbox, not the shared one
    accept = accept_record.json
    assert accept == {
        "@context": AS,
        "id": accept["id"],
        "type": "Accept",
        "actor": b.actor_id("bob"),
        "object": {
            "id": follow["id"],
            "type": "Follow",
            "actor": a.actor_id("alice"),
            "object": b.actor_id("bob"),
        },
    }
    assert re.fullmatch(rf"{re.escape(b.actor_id('bob'))}#accepts/follows/\d+", accept["id"])

    await b.follow_remote("bob", a.actor_id("alice"))
    await b.wait_until(lambda: b.following_state("bob", a.actor_id("alice")) == "accepted")
    assert all(r.verified and r.accepted for r in a.inbox_log + b.inbox_log)


async def test_delivery_carries_mastodons_headers_in_mastodons_order(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    await a.follow_remote("alice", b.actor_id("bob"))
    record = await b.wait_for(lambda r: r.type == "Follow")

    headers = record.headers
    assert headers["Content-Type"] == "application/activity+json"  # DeliveryWorker::HEADERS, no charset
    assert headers["Host"] == b.domain
    assert re.fullmatch(r"SHA-256=[A-Za-z0-9+/]{43}=", headers["Digest"])
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", headers["Date"])
    assert headers["User-Agent"] == f"Mastodon/4.6.5 (http.rb/5.3.1; +{a.origin}/)"
    assert re.fullmatch(
        rf'keyId="{re.escape(a.key_id("alice"))}",algorithm="rsa-sha256",'
        r'headers="host date digest content-type \(request-target\)",signature="[A-Za-z0-9+/=]+"',
        headers["Signature"],
    )
    assert json.loads(record.body) == record.json and record.body.startswith(b'{"@context":')

    # b fetched the sender's key with a GET signed by its instance actor, in 4.6's `host date accept` order.
    fetch = next(f for f in a.fetch_log if f.path == "/users/alice")
    params = parse_signature(fetch.headers["Signature"])
    assert params["keyId"] == f"{b.instance_actor_id}#main-key"
    assert params["headers"] == "host date accept (request-target)"
    assert fetch.headers["Accept"] == "application/activity+json, application/ld+json"


async def test_main_branch_orders_content_type_before_digest_and_drops_accept(make_peer: MakePeer) -> None:
    a = await make_peer("alice", version="4.7.0-alpha.2")
    b = await make_peer("bob", authorized_fetch=True)
    await a.follow_remote("alice", b.actor_id("bob"))
    record = await b.wait_for(lambda r: r.type == "Follow")
    assert record.verified
    assert (
        parse_signature(record.headers["Signature"])["headers"]
        == "host date content-type digest (request-target)"
    )
    fetch = next(f for f in b.fetch_log if f.path == "/users/bob")
    assert (
        fetch.verified
        and parse_signature(fetch.headers["Signature"])["headers"] == "host date (request-target)"
    )


async def test_signature_verifies_with_httpsig(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    await a.send(a.like("alice", f"{b.actor_id('bob')}/statuses/1"), b.shared_inbox_url, "alice")
    record = await b.wait_for(lambda r: r.type == "Like")

    verifier = HeaderVerifier(
        headers=dict(record.headers),
        secret=a.accounts["alice"].public_pem.encode("ascii"),
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path=record.path,
        sign_header="Signature",
    )
    assert verifier.verify()
    tampered = dict(record.headers, Date="Mon, 01 Jan 2001 00:00:00 GMT")
    assert not HeaderVerifier(
        headers=tampered,
        secret=a.accounts["alice"].public_pem.encode("ascii"),
        method="POST",
        path=record.path,
        sign_header="Signature",
    ).verify()


async def test_tampered_body_and_unsigned_posts_are_refused_401(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    note = a.create_note("alice", "hello", mentions=[b.actor_id("bob")])

    def swap_body(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        return headers, body.replace(b"hello", b"jello")

    refused = await a.send(note, b.inbox_url("bob"), "alice", tamper=swap_body)
    assert refused.status == 401
    assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
    assert refused.json()["error"].startswith("Invalid Digest value. Computed SHA-256 digest: ")

    def forge(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        forged = body.replace(b"hello", b"jello")
        headers["Digest"] = digest_header(forged)  # a consistent digest, but the signature covers the old one
        return headers, forged

    forged = await a.send(note, b.inbox_url("bob"), "alice", tamper=forge)
    assert forged.status == 401
    assert forged.json()["error"].startswith(
        f"Verification failed for alice@{a.domain} {a.actor_id('alice')}"
    )

    unsigned = await a.send(note, b.inbox_url("bob"), "alice", signed=False)
    assert (unsigned.status, unsigned.json()) == (401, {"error": "Request not signed"})

    assert [r.verified for r in b.inbox_log] == [False, False, False]
    assert b.received() == []


async def test_date_outside_the_window_is_refused(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    a.clock_skew = -2 * 3600  # Mastodon accepts a Date up to about 65 minutes old
    late = await a.send(a.like("alice", "http://127.0.0.1/x"), b.shared_inbox_url, "alice")
    assert late.json() == {"error": "Signed request date outside acceptable time window"}
    a.clock_skew = -50 * 60
    assert (await a.send(a.like("alice", "http://127.0.0.1/x"), b.shared_inbox_url, "alice")).status == 202


async def test_signer_other_than_actor_gets_202_but_is_not_accepted(make_peer: MakePeer) -> None:
    a = await make_peer("alice", "mallory")
    b = await make_peer("bob")
    forged = a.follow("alice", b.actor_id("bob"))
    assert (await a.send(forged, b.inbox_url("bob"), "mallory")).status == 202
    record = b.inbox_log[-1]
    assert record.verified and record.signer == a.actor_id("mallory") and not record.accepted
    assert b.accounts["bob"].followers == {}


async def test_webfinger_host_meta_and_actor_shapes(make_peer: MakePeer) -> None:
    b = await make_peer("bob")
    async with aiohttp.ClientSession() as http:
        url = f"{b.origin}/.well-known/webfinger?resource=acct:bob@{b.domain}"
        async with http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/jrd+json; charset=utf-8"
            jrd = await response.json(content_type=None)
        assert jrd["subject"] == f"acct:bob@{b.domain}"
        assert jrd["aliases"] == [b.profile_url("bob"), b.actor_id("bob")]
        assert {"rel": "self", "type": "application/activity+json", "href": b.actor_id("bob")} in jrd["links"]
        assert jrd["links"][0] == {
            "rel": "http://webfinger.net/rel/profile-page",
            "type": "text/html",
            "href": b.profile_url("bob"),
        }
        for resource, status in [
            (None, 400),
            ("nobody", 400),
            (f"acct:carol@{b.domain}", 404),
            ("acct:bob@elsewhere.example", 404),
            (b.actor_id("bob"), 200),
            (b.domain, 200),
        ]:
            query = "" if resource is None else f"?resource={resource}"
            async with http.get(f"{b.origin}/.well-known/webfinger{query}") as response:
                assert response.status == status, resource

        async with http.get(f"{b.origin}/.well-known/host-meta") as response:
            assert response.headers["Content-Type"] == "application/xrd+xml; charset=utf-8"
            assert f'template="{b.origin}/.well-known/webfinger?resource={{uri}}"' in await response.text()

        async with http.get(b.actor_id("bob"), headers={"Accept": "application/activity+json"}) as response:
            assert response.headers["Content-Type"] == "application/activity+json; charset=utf-8"
            actor = await response.json(content_type=None)
        async with http.get(
            b.actor_id("bob"), headers={"Accept": "text/html"}, allow_redirects=False
        ) as response:
            assert (response.status, response.headers["Location"]) == (302, b.profile_url("bob"))

    assert actor["@context"][:3] == [
        AS,
        "https://w3id.org/security/v1",
        "https://purl.archive.org/socialweb/webfinger",
    ]
    assert actor["@context"][3]["manuallyApprovesFollowers"] == "as:manuallyApprovesFollowers"
    assert (
        actor["type"] == "Person"
        and actor["preferredUsername"] == "bob"
        and actor["webfinger"] == b.acct("bob")
    )
    assert actor["publicKey"]["id"] == f"{b.actor_id('bob')}#main-key"
    assert actor["publicKey"]["owner"] == actor["id"] == b.actor_id("bob")
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert actor["endpoints"] == {"sharedInbox": f"{b.origin}/inbox"}
    assert actor["inbox"] == f"{actor['id']}/inbox" and actor["followers"] == f"{actor['id']}/followers"
    assert actor["featured"] == f"{actor['id']}/collections/featured"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", actor["published"])


async def test_authorized_fetch_requires_a_signature_except_for_the_instance_actor(
    make_peer: MakePeer,
) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob", authorized_fetch=True)

    unsigned = await a.signed_get(b.actor_id("bob"), signed=False)
    assert (unsigned.status, unsigned.json()) == (401, {"error": "Request not signed"})
    signed = await a.signed_get(b.actor_id("bob"))
    assert signed.status == 200 and "Signature" in signed.headers["Vary"]
    assert signed.json()["id"] == b.actor_id("bob")
    assert b.fetch_log[-1].verified and b.fetch_log[-1].signer == a.instance_actor_id
    as_user = await a.signed_get(b.followers_url("bob"), "alice")
    assert as_user.status == 200 and as_user.json()["totalItems"] == 0

    instance = await a.signed_get(b.instance_actor_id, signed=False)
    assert instance.status == 200
    document = instance.json()
    assert document["type"] == "Application" and document["preferredUsername"] == "mastodon.internal"
    assert set(document) == {
        "@context",
        "id",
        "type",
        "inbox",
        "outbox",
        "preferredUsername",
        "url",
        "manuallyApprovesFollowers",
        "publicKey",
        "endpoints",
    }


async def test_undo_follow_removes_the_follower(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    await a.follow_remote("alice", b.actor_id("bob"))
    await a.wait_until(lambda: a.following_state("alice", b.actor_id("bob")) == "accepted")
    number = a.accounts["alice"].following[b.actor_id("bob")].number
    root = (await a.signed_get(b.followers_url("bob"))).json()
    assert (root["type"], root["totalItems"], root["first"]) == (
        "OrderedCollection",
        1,
        f"{root['id']}?page=1",
    )
    assert (await a.signed_get(root["first"])).json()["orderedItems"] == [a.actor_id("alice")]

    assert (await a.unfollow_remote("alice", b.actor_id("bob"))).status == 202
    undo = b.received("Undo")[0]
    assert undo["id"] == f"{a.actor_id('alice')}#follows/{number}/undo"
    assert undo["object"]["type"] == "Follow" and undo["object"]["id"] == b.received("Follow")[0]["id"]
    assert b.accounts["bob"].followers == {}


async def test_locked_account_holds_the_request_until_approved_or_refused(make_peer: MakePeer) -> None:
    a = await make_peer("alice", "carol")
    b = await make_peer("bob", locked=["bob"])
    await a.follow_remote("alice", b.actor_id("bob"))
    await a.follow_remote("carol", b.actor_id("bob"))
    assert set(b.accounts["bob"].follow_requests) == {a.actor_id("alice"), a.actor_id("carol")}
    assert a.following_state("alice", b.actor_id("bob")) == "pending"

    assert (await b.approve("bob", a.actor_id("alice"))).status == 202
    assert (await b.refuse("bob", a.actor_id("carol"))).status == 202
    assert a.following_state("alice", b.actor_id("bob")) == "accepted"
    assert a.following_state("carol", b.actor_id("bob")) == "rejected"
    reject = a.received("Reject")[0]
    assert re.fullmatch(rf"{re.escape(b.actor_id('bob'))}#rejects/follows/\d+", reject["id"])
    assert list(b.accounts["bob"].followers) == [a.actor_id("alice")]


async def test_a_rotated_key_is_refetched_once(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    assert (await a.send(a.like("alice", "http://127.0.0.1/1"), b.shared_inbox_url, "alice")).status == 202
    old = a.accounts["alice"].key
    a.accounts["alice"].key = generate_key()
    update = a.update_person("alice")
    assert update["object"]["publicKey"]["publicKeyPem"] == a.accounts["alice"].public_pem
    assert (await a.send(update, b.shared_inbox_url, "alice", sign_with=old)).status == 202  # cached key
    assert (await a.send(a.like("alice", "http://127.0.0.1/2"), b.shared_inbox_url, "alice")).status == 202
    assert b.key_cache[a.key_id("alice")].public_key.public_numbers() == (
        a.accounts["alice"].key.public_key().public_numbers()
    )


async def test_notes_are_addressed_by_visibility_and_served(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    bob, followers = b.actor_id("bob"), a.followers_url("alice")
    cases = {
        "public": ([PUBLIC], [followers, bob]),
        "unlisted": ([followers], [PUBLIC, bob]),
        "followers": ([followers], [bob]),
        "direct": ([bob], []),
    }
    for visibility, (to, cc) in cases.items():
        create = a.create_note("alice", "hi <b>", visibility=visibility, mentions=[bob])
        note = create["object"]
        assert (create["to"], create["cc"], note["to"], note["cc"]) == (to, cc, to, cc), visibility
        assert note["tag"] == [{"type": "Mention", "href": bob, "name": f"@bob@{b.domain}"}]
        assert "hi &lt;b&gt;" in note["content"] and note["contentMap"] == {"en": note["content"]}
        assert create["id"] == f"{note['id']}/activity" and note["attributedTo"] == a.actor_id("alice")

    public, direct = (
        s["create"]["object"]["id"]
        for s in a.accounts["alice"].statuses.values()
        if s["visibility"] in ("public", "direct")
    )
    fetched = await b.signed_get(public)
    assert fetched.status == 200 and fetched.json()["type"] == "Note"
    assert "<" not in fetched.body.decode() and "\\u003cp\\u003e" in fetched.body.decode()  # Rails escaping
    assert (await b.signed_get(direct)).status == 404  # the instance actor is not addressed
    assert (await b.signed_get(direct, "bob")).status == 200


async def test_only_loopback_is_contacted(make_peer: MakePeer) -> None:
    a = await make_peer("alice")
    b = await make_peer("bob")
    with pytest.raises(PeerNetworkError):
        await a.send(a.like("alice", "x"), "https://mastodon.social/inbox", "alice")
    with pytest.raises(PeerNetworkError):
        await a.signed_get("http://10.0.0.1/users/x")

    def elsewhere(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        headers["Signature"] = headers["Signature"].replace(a.origin, "https://mastodon.example")
        return headers, body

    refused = await a.send(a.like("alice", "x"), b.shared_inbox_url, "alice", tamper=elsewhere)
    assert refused.status == 401 and "only loopback hosts" in refused.json()["error"]


async def test_wait_for_is_bounded() -> None:
    peer = FakeMastodon()
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s"):
        await peer.wait_for(lambda record: False, timeout=0.1)
    with pytest.raises(SignatureError, match="Error parsing signature with duplicate keys"):
        parse_signature('keyId="a",keyId="b"')


async def test_public_creates_carry_an_ld_signature_that_vouches_for_relays(make_peer: MakePeer) -> None:
    a = await make_peer("alice", "relay")
    b = await make_peer("bob")
    public = a.create_note("alice", "hello", mentions=[b.actor_id("bob")], hashtags=["Spark"])
    assert public["signature"]["type"] == "RsaSignature2017"
    assert public["signature"]["creator"] == a.key_id("alice")
    assert public["@context"][0] == AS and public["@context"][-1] == "https://w3id.org/security/v1"
    alice_key = a.accounts["alice"].key.public_key()
    assert ld_verify(public, alice_key)
    assert not ld_verify({**public, "object": {**public["object"], "content": "<p>forged</p>"}}, alice_key)
    assert "signature" not in a.create_note("alice", "quiet", visibility="followers")

    assert (await a.send(public, b.shared_inbox_url, "alice")).status == 202
    direct = b.inbox_log[-1]
    assert (
        direct.accepted and direct.ld_verified is None
    )  # signed by its actor: the LD signature is not needed

    relayed = a.create_note("alice", "boost me")
    assert (await a.send(relayed, b.shared_inbox_url, "relay")).status == 202
    forwarded = b.inbox_log[-1]
    assert forwarded.signer == a.actor_id("relay") and forwarded.ld_verified and forwarded.accepted

    unsigned = a.create_note("alice", "no proof", ld_signed=False)
    assert (await a.send(unsigned, b.shared_inbox_url, "relay")).status == 202
    assert not b.inbox_log[-1].accepted
    c = await make_peer("carol", authorized_fetch=True)
    assert "signature" not in c.create_note("carol", "secure mode signs nothing")


async def test_an_actor_whose_webfinger_does_not_loop_back_is_refused(make_peer: MakePeer) -> None:
    a = await make_peer("alice", "bob")
    b = await make_peer("carol")
    a._webfinger_username = lambda resource: "bob"  # type: ignore[method-assign]
    refused = await a.send(a.like("alice", "x"), b.shared_inbox_url, "alice")
    assert refused.status == 401
    assert refused.json() == {
        "error": f"Webfinger response for bob@{a.domain} does not loop back to {a.actor_id('alice')}"
    }


async def test_start_without_pytest_aiohttp_and_infer_nothing_else() -> None:
    async with FakeMastodon("dana").running() as peer:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", peer.origin)
        subject, href = await peer.webfinger(peer.acct("dana"))
        assert (subject, href) == (f"acct:dana@{peer.domain}", peer.actor_id("dana"))
        assert (await peer.resolve(peer.acct("dana")))["id"] == peer.actor_id("dana")
