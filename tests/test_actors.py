"""Actor documents, profile pages and collections, as Mastodon fetches them."""

from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.hashes import SHA256

from spark_fed.accounts import create_local_user
from spark_fed.keys import load_private_key, load_public_key
from spark_fed.models import Account, Follow, FollowState
from spark_fed.state import URLS

from .conftest import Spark

AS2_ACCEPTS = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams", application/activity+json',
    "application/activity+json, application/ld+json, text/html;q=0.1",
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


async def test_person_document(spark: Spark, aiohttp_client) -> None:
    account = await create_local_user(
        spark.db, spark.app[URLS], "alice", display_name="Alice <A>", bio="Hello\nworld & co", locked=True
    )
    client = await aiohttp_client(spark.server)
    for accept in AS2_ACCEPTS:
        resp = await client.get("/users/alice", headers={"Accept": accept})
        assert resp.status == 200, accept
        assert resp.headers["Content-Type"] == "application/activity+json; charset=utf-8"
    doc = await resp.json(content_type=None)
    actor = f"{spark.base}/users/alice"
    assert doc["@context"][:3] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://purl.archive.org/socialweb/webfinger",
    ]
    assert doc["id"] == actor
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    assert doc["webfinger"] == f"alice@{spark.domain}"
    assert doc["name"] == "Alice <A>"
    assert doc["summary"] == "<p>Hello<br>world &amp; co</p>"
    assert doc["url"] == f"{spark.base}/@alice"
    assert doc["inbox"] == f"{actor}/inbox"
    assert doc["outbox"] == f"{actor}/outbox"
    assert doc["followers"] == f"{actor}/followers"
    assert doc["following"] == f"{actor}/following"
    assert doc["endpoints"] == {"sharedInbox": f"{spark.base}/inbox"}
    assert doc["manuallyApprovesFollowers"] is True
    assert doc["discoverable"] is True
    assert doc["published"] == account.created_at.strftime("%Y-%m-%dT00:00:00Z")
    key = doc["publicKey"]
    assert key["id"] == f"{actor}#main-key"
    assert key["owner"] == actor
    # The published key is the public half of the key Spark signs with.
    signature = load_private_key(account.private_key_pem).sign(b"x", padding.PKCS1v15(), SHA256())
    load_public_key(key["publicKeyPem"]).verify(signature, b"x", padding.PKCS1v15(), SHA256())
    # The same document at the profile URL, so that `url` dereferences too.
    resp = await client.get("/@alice", headers={"Accept": "application/activity+json"})
    assert (await resp.json(content_type=None))["id"] == actor


async def test_profile_page_for_browsers(spark: Spark, aiohttp_client) -> None:
    await create_local_user(spark.db, spark.app[URLS], "alice", display_name="Alice <b>A</b>")
    client = await aiohttp_client(spark.server)
    resp = await client.get("/@alice", headers={"Accept": BROWSER_ACCEPT})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert resp.headers["Link"] == (
        f'<{spark.base}/users/alice>; rel="alternate"; type="application/activity+json"'
    )
    page = await resp.text()
    assert f'<link rel="alternate" type="application/activity+json" href="{spark.base}/users/alice">' in page
    assert "Alice &lt;b&gt;A&lt;/b&gt;" in page  # autoescaped
    assert f"@alice@{spark.domain}" in page
    resp = await client.get("/users/alice", headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"{spark.base}/@alice"
    resp = await client.get("/users/alice")  # no Accept at all: a person
    assert resp.content_type == "text/html"


async def test_unknown_user(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    for path in ("/users/nobody", "/@nobody", "/users/nobody/followers", "/users/nobody/outbox"):
        for accept in ("application/activity+json", BROWSER_ACCEPT):
            resp = await client.get(path, headers={"Accept": accept})
            assert resp.status == 404, (path, accept)
    # The instance actor is not a user, whatever its stored name.
    assert (await client.get("/users/instance.actor", headers={"Accept": AS2_ACCEPTS[0]})).status == 404


async def test_instance_actor(spark: Spark, aiohttp_client) -> None:
    client = await aiohttp_client(spark.server)
    resp = await client.get("/actor", headers={"Accept": "application/activity+json"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/activity+json; charset=utf-8"
    doc = await resp.json(content_type=None)
    assert doc["type"] == "Application"
    assert doc["id"] == f"{spark.base}/actor"
    assert doc["preferredUsername"] == spark.domain
    assert doc["publicKey"]["id"] == f"{spark.base}/actor#main-key"
    assert doc["publicKey"]["owner"] == doc["id"]
    assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    assert doc["manuallyApprovesFollowers"] is True


async def test_empty_collections(spark: Spark, aiohttp_client) -> None:
    await create_local_user(spark.db, spark.app[URLS], "alice")
    client = await aiohttp_client(spark.server)
    actor = f"{spark.base}/users/alice"
    for name in ("followers", "following", "outbox"):
        resp = await client.get(f"/users/alice/{name}", headers={"Accept": "application/activity+json"})
        assert resp.headers["Content-Type"] == "application/activity+json; charset=utf-8"
        root = await resp.json(content_type=None)
        assert root == {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}/{name}",
            "type": "OrderedCollection",
            "totalItems": 0,
            "first": f"{actor}/{name}?page=true",
        }
        page = await (await client.get(root["first"].removeprefix(spark.base))).json(content_type=None)
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == root["id"]
        assert page["orderedItems"] == []
        assert page["totalItems"] == 0
        assert "next" not in page and "prev" not in page


async def _remote_followers(spark: Spark, followee: Account, count: int) -> list[str]:
    uris = []
    async with spark.db.write() as session:
        for n in range(count):
            remote = Account(
                uri=f"https://remote.example/users/f{n}",
                username=f"f{n}",
                domain="remote.example",
                inbox_url=f"https://remote.example/users/f{n}/inbox",
                public_key_id=f"https://remote.example/users/f{n}#main-key",
                public_key_pem="unused",
            )
            session.add(remote)
            await session.flush()
            state = FollowState.PENDING if n == 0 else FollowState.ACCEPTED
            session.add(
                Follow(follower_id=remote.id, followee_id=followee.id, uri=f"{remote.uri}#f", state=state)
            )
            if state == FollowState.ACCEPTED:
                uris.append(remote.uri)
    return uris


async def test_followers_paged_by_cursor(spark: Spark, aiohttp_client) -> None:
    alice = await create_local_user(spark.db, spark.app[URLS], "alice")
    expected = await _remote_followers(spark, alice, 30)  # one of them only pending
    client = await aiohttp_client(spark.server)
    root = await (await client.get("/users/alice/followers")).json(content_type=None)
    assert root["totalItems"] == 29
    seen: list[str] = []
    url = root["first"]
    pages = []
    while url and len(pages) < 10:
        page = await (await client.get(url.removeprefix(spark.base))).json(content_type=None)
        assert page["totalItems"] == 29
        pages.append(page)
        seen.extend(page["orderedItems"])
        url = page.get("next")
    assert [len(p["orderedItems"]) for p in pages] == [12, 12, 5]
    assert seen == expected[::-1]  # newest first, each once, no pending follower
    assert "prev" not in pages[0]
    back = await (await client.get(pages[1]["prev"].removeprefix(spark.base))).json(content_type=None)
    assert back["orderedItems"] == pages[0]["orderedItems"]
    following = await (await client.get("/users/alice/following")).json(content_type=None)
    assert following["totalItems"] == 0
    resp = await client.get("/users/alice/followers?page=true&max_id=abc")
    assert resp.status == 400


async def test_follower_counts_on_profile(spark: Spark, aiohttp_client) -> None:
    alice = await create_local_user(spark.db, spark.app[URLS], "alice")
    await _remote_followers(spark, alice, 4)
    client = await aiohttp_client(spark.server)
    page = await (await client.get("/@alice", headers={"Accept": BROWSER_ACCEPT})).text()
    assert "<b>3</b> Followers" in page
    assert "<b>0</b> Following" in page
