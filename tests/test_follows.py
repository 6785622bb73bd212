"""Two real Spark instances on loopback following each other, with real signatures and queues."""

from sqlmodel import select

from outbox import actions
from spark_fed.models import Account, Follow, FollowState
from spark_fed.queries.accounts import find_local_user
from spark_fed.queries.follows import FOLLOWERS, FOLLOWING, list_follows

from .conftest import Spark, eventually


async def _state(spark: Spark, owner: str, direction, other_uri: str) -> str | None:
    async with spark.db.read() as session:
        account = await find_local_user(session, owner)
        rows = await list_follows(session, account.id, direction)
    return next((follow.state for follow, other in rows if other.uri == other_uri), None)


async def _collection_total(spark: Spark, client_session, path: str) -> int:
    async with client_session.get(
        f"{spark.base}{path}", headers={"Accept": "application/activity+json"}
    ) as r:
        return (await r.json(content_type=None))["totalItems"]


async def test_follow_accept_and_unfollow_between_two_instances(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    alice = await a.user("alice")
    bob = await b.user("bob")
    result = await actions.follow(a.ctx, alice, f"bob@{b.domain}")
    assert result.follow.state == FollowState.PENDING
    assert result.target.uri == bob.uri

    async def accepted_on_a() -> bool:
        return await _state(a, "alice", FOLLOWING, bob.uri) == FollowState.ACCEPTED

    await eventually(accepted_on_a, what="B's Accept to reach A")
    assert await _state(b, "bob", FOLLOWERS, alice.uri) == FollowState.ACCEPTED
    client = await aiohttp_client(a.server)
    assert await _collection_total(a, client.session, "/users/alice/following") == 1
    assert await _collection_total(b, client.session, "/users/bob/followers") == 1
    async with client.session.get(f"{b.base}/users/bob/followers?page=true") as resp:
        assert (await resp.json(content_type=None))["orderedItems"] == [alice.uri]

    await actions.unfollow(a.ctx, alice, f"@bob@{b.domain}")
    assert await _state(a, "alice", FOLLOWING, bob.uri) is None

    async def gone_on_b() -> bool:
        return await _state(b, "bob", FOLLOWERS, alice.uri) is None

    await eventually(gone_on_b, what="the Undo to reach B")
    assert await _collection_total(b, client.session, "/users/bob/followers") == 0


async def test_locked_account_holds_the_request_until_accepted(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice = await a.user("alice")
    bob = await b.user("bob", locked=True)
    await actions.follow(a.ctx, alice, bob.uri)

    async def pending_on_b() -> bool:
        return await _state(b, "bob", FOLLOWERS, alice.uri) == FollowState.PENDING

    await eventually(pending_on_b, what="the Follow to reach B")
    assert await _state(a, "alice", FOLLOWING, bob.uri) == FollowState.PENDING
    async with b.db.read() as session:
        follow = (await session.exec(select(Follow))).one()
    assert follow.state == FollowState.PENDING
    await actions.answer_follow_request(b.ctx, bob, f"alice@{a.domain}", accept=True)

    async def accepted_on_a() -> bool:
        return await _state(a, "alice", FOLLOWING, bob.uri) == FollowState.ACCEPTED

    await eventually(accepted_on_a, what="the Accept to reach A")


async def test_rejected_request(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice = await a.user("alice")
    bob = await b.user("bob", locked=True)
    await actions.follow(a.ctx, alice, f"bob@{b.domain}")

    async def pending_on_b() -> bool:
        return await _state(b, "bob", FOLLOWERS, alice.uri) == FollowState.PENDING

    await eventually(pending_on_b)
    await actions.answer_follow_request(b.ctx, bob, f"alice@{a.domain}", accept=False)

    async def rejected_on_a() -> bool:
        return await _state(a, "alice", FOLLOWING, bob.uri) == FollowState.REJECTED

    await eventually(rejected_on_a, what="the Reject to reach A")
    assert await _state(b, "bob", FOLLOWERS, alice.uri) == FollowState.REJECTED


async def test_remote_actor_is_stored_with_its_key_and_inboxes(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    await b.user("bob", display_name="Bob B")
    bob = await a.ctx.actors.by_handle_or_url(f"bob@{b.domain}")
    assert bob.domain == b.domain.lower()
    assert bob.username == "bob"
    assert bob.display_name == "Bob B"
    assert bob.inbox_url == f"{b.base}/users/bob/inbox"
    assert bob.shared_inbox_url == f"{b.base}/inbox"
    assert bob.private_key_pem is None
    assert "BEGIN PUBLIC KEY" in bob.public_key_pem
    async with a.db.read() as session:
        stored = (await session.exec(select(Account).where(Account.uri == bob.uri))).one()
    assert stored.fetched_at is not None
