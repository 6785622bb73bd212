"""Feed rows follow relationships: once a follow ends (an unfollow, a Reject of an accepted follow,
a removed follower), a block or a domain suspension, what the reader may no longer see leaves the
home timeline, the notifications and the pages at once, read through the client API and the web
pages, and the stale home-feed rows go with it."""

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import select

from outbox import actions, moderation, posts
from spark_fed import feeds
from spark_fed.models import Account, FeedEntry, Follow, FollowState, Status
from spark_fed.passwords import hash_password
from spark_fed.tokens import create_token, parse_scopes

from .conftest import CHEAP_PASSWORDS, Spark, eventually
from .peers import FakeMastodon

PASSWORD = "correct horse battery"


class Reader:
    """One local user as their apps see them: a token client and a signed-in browser."""

    def __init__(self, spark: Spark, account: Account, api: TestClient, web: TestClient) -> None:
        self.spark, self.account, self.api, self.web = spark, account, api, web

    @classmethod
    async def start(cls, spark: Spark, aiohttp_client, name: str) -> "Reader":
        account = await spark.user(name, password_hash=await hash_password(CHEAP_PASSWORDS, PASSWORD))
        token = await create_token(spark.db, account, parse_scopes("read write follow"))
        api = await aiohttp_client(spark.server)
        api.session.headers["Authorization"] = f"Bearer {token}"
        web = await aiohttp_client(spark.server)
        signed_in = await web.post(
            "/auth/sign_in",
            data={"username": name, "password": PASSWORD, "next": "/"},
            headers={"Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        )
        assert signed_in.status == 303, await signed_in.text()
        return cls(spark, account, api, web)

    async def home(self) -> set[int]:
        answer = await self.api.get("/api/v1/timelines/home", params={"limit": "40"})
        assert answer.status == 200
        return {int(s["id"]) for s in await answer.json()}

    async def notified_about(self) -> set[int]:
        answer = await self.api.get("/api/v1/notifications", params={"limit": "40"})
        assert answer.status == 200
        return {int(n["status"]["id"]) for n in await answer.json() if n.get("status")}

    async def home_page(self) -> str:
        answer = await self.web.get("/", headers={"Accept": "text/html"})
        assert answer.status == 200
        return await answer.text()

    async def feed_rows(self, author: Account) -> int:
        async with self.spark.db.read() as session:
            query = (
                select(func.count())
                .select_from(FeedEntry)
                .join(Status, Status.id == FeedEntry.status_id)
                .where(FeedEntry.account_id == self.account.id, Status.account_id == author.id)
            )
            return (await session.exec(query)).one()

    async def sees(self, status: Status, text: str) -> bool:
        return status.id in await self.home() and text in await self.home_page()

    async def sees_nothing_of(self, status: Status, text: str) -> None:
        assert status.id not in await self.home()
        assert status.id not in await self.notified_about()
        assert text not in await self.home_page()
        answer = await self.api.get(f"/api/v1/statuses/{status.id}")
        assert answer.status == 404


async def _alice_and_bob(spark: Spark, aiohttp_client) -> tuple[Reader, Account]:
    """Bob follows alice; alice writes a public post and a followers-only one naming nobody."""
    bob = await Reader.start(spark, aiohttp_client, "bob")
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, bob.account, f"alice@{spark.domain}")
    return bob, alice


async def test_unfollow_takes_followers_only_posts_out(spark: Spark, aiohttp_client) -> None:
    bob, alice = await _alice_and_bob(spark, aiohttp_client)
    public = await posts.post(spark.ctx, alice, "open to all")
    private = await posts.post(spark.ctx, alice, "for followers alone", visibility="followers")
    assert await bob.sees(private, "for followers alone")
    assert await bob.feed_rows(alice) == 2

    answer = await bob.api.post(f"/api/v1/accounts/{alice.id}/unfollow")
    assert answer.status == 200 and (await answer.json())["following"] is False

    await bob.sees_nothing_of(private, "for followers alone")
    assert public.id in await bob.home()  # public posts stay readable
    assert await bob.feed_rows(alice) == 1


async def test_removed_follower_loses_followers_only_posts(spark: Spark, aiohttp_client) -> None:
    bob = await Reader.start(spark, aiohttp_client, "bob")
    alice = await Reader.start(spark, aiohttp_client, "alice")
    await actions.follow(spark.ctx, bob.account, f"alice@{spark.domain}")
    private = await posts.post(spark.ctx, alice.account, "only my followers", visibility="followers")
    assert await bob.sees(private, "only my followers")

    answer = await alice.api.post(f"/api/v1/accounts/{bob.account.id}/remove_from_followers")
    assert answer.status == 200 and (await answer.json())["followed_by"] is False

    await bob.sees_nothing_of(private, "only my followers")
    assert await bob.feed_rows(alice.account) == 0


async def test_block_takes_the_blocked_side_out_of_everything(spark: Spark, aiohttp_client) -> None:
    bob, alice = await _alice_and_bob(spark, aiohttp_client)
    mention = await posts.post(spark.ctx, alice, f"hello @bob@{spark.domain}", visibility="followers")
    assert await bob.sees(mention, "hello")
    assert mention.id in await bob.notified_about()

    answer = await bob.api.post(f"/api/v1/accounts/{alice.id}/block")
    assert answer.status == 200

    await bob.sees_nothing_of(mention, "hello")
    assert await bob.feed_rows(alice) == 0


async def test_reject_of_an_accepted_follow_from_mastodon(
    spark: Spark, aiohttp_client, aiohttp_server
) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    bob = await Reader.start(spark, aiohttp_client, "bob")
    carol, stored = await _followed_and_heard(
        spark, peer, bob, "followers of carol only", visibility="private", mentions=[]
    )
    assert await bob.sees(stored, "followers of carol only")

    assert (await peer.refuse("carol", bob.account.uri)).status == 202

    async def gone() -> bool:
        return stored.id not in await bob.home()

    await eventually(gone, what="the Reject to take carol's post out")
    await bob.sees_nothing_of(stored, "followers of carol only")
    assert await bob.feed_rows(carol) == 0


async def test_domain_suspension_takes_the_server_out(spark: Spark, aiohttp_client, aiohttp_server) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    bob = await Reader.start(spark, aiohttp_client, "bob")
    carol, stored = await _followed_and_heard(
        spark, peer, bob, "from a server soon suspended", mentions=[bob.account.uri]
    )
    assert await bob.sees(stored, "soon suspended")
    assert stored.id in await bob.notified_about()

    await moderation.block_domain(spark.ctx, None, peer.domain, severity="suspend")

    await bob.sees_nothing_of(stored, "soon suspended")
    assert await bob.feed_rows(carol) == 0


async def _followed_and_heard(
    spark: Spark, peer: FakeMastodon, bob: Reader, text: str, **note: Any
) -> tuple[Account, Status]:
    """BOB follows carol on PEER (accepted), then carol's note of TEXT arrives: (carol, the note)."""
    await actions.follow(spark.ctx, bob.account, peer.acct("carol"))

    async def accepted() -> bool:
        return peer.actor_id("carol") in await _following(spark, bob.account)

    await eventually(accepted, what="carol's Accept")
    created = peer.create_note("carol", text, **note)
    assert (await peer.send(created, f"{spark.base}/inbox", "carol")).status == 202
    carol = await _account(spark, peer.actor_id("carol"))

    async def arrived() -> Status | None:
        async with spark.db.read() as session:
            return (await session.exec(select(Status).where(Status.account_id == carol.id))).first()

    return carol, await eventually(arrived, what="carol's note")


async def _account(spark: Spark, uri: str) -> Account:
    async with spark.db.read() as session:
        return (await session.exec(select(Account).where(Account.uri == uri))).one()


async def _following(spark: Spark, account: Account) -> set[str]:
    async with spark.db.read() as session:
        query = (
            select(Account.uri)
            .join(Follow, Follow.followee_id == Account.id)
            .where(Follow.follower_id == account.id, Follow.state == FollowState.ACCEPTED)
        )
        return set((await session.exec(query)).all())


async def test_a_feed_row_is_never_a_permission(spark: Spark, aiohttp_client) -> None:
    """A row left behind (a long feed is pruned in chunks, after the first in later transactions)
    is not served: who may read a post is decided when reading, in the timeline's own query."""
    bob, alice = await _alice_and_bob(spark, aiohttp_client)
    root = await posts.post(spark.ctx, alice, "a public root")
    private = await posts.post(spark.ctx, alice, "a private reply", visibility="followers", reply_to=root.uri)
    context = await (await bob.api.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert [int(s["id"]) for s in context["descendants"]] == [private.id]

    assert (await bob.api.post(f"/api/v1/accounts/{alice.id}/unfollow")).status == 200
    async with spark.db.write() as session:
        session.add(FeedEntry(account_id=bob.account.id, status_id=private.id))
    assert await bob.feed_rows(alice) == 2

    await bob.sees_nothing_of(private, "a private reply")
    context = await (await bob.api.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert context["descendants"] == []


async def test_a_long_feed_is_pruned_in_chunks(spark: Spark, aiohttp_client, monkeypatch) -> None:
    """Past the first chunk (in the unfollow's own transaction) the rest goes in short
    transactions of its own, until none is left."""
    monkeypatch.setattr(feeds, "PRUNE_CHUNK", 2)
    bob, alice = await _alice_and_bob(spark, aiohttp_client)
    for n in range(5):
        await posts.post(spark.ctx, alice, f"private {n}", visibility="followers")
    public = await posts.post(spark.ctx, alice, "public")
    assert await bob.feed_rows(alice) == 6

    await actions.unfollow(spark.ctx, bob.account, f"alice@{spark.domain}")

    assert await bob.feed_rows(alice) == 1
    assert await bob.home() == {public.id}
