"""Polls over the wire: with the Mastodon-shaped peer both ways, and between two Sparks."""

from sqlmodel import func, select

from outbox import actions
from spark_fed.models import Follow, FollowState, Poll, PollVote, Status

from .api_clients import api_client
from .conftest import Spark, eventually
from .peers import FakeMastodon

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def _follow(spark: Spark, follower, handle: str) -> None:
    await actions.follow(spark.ctx, follower, handle)

    async def accepted() -> bool:
        async with spark.db.read() as session:
            states = (await session.exec(select(Follow.state).where(Follow.follower_id == follower.id))).all()
        return FollowState.ACCEPTED in states

    await eventually(accepted, what=f"the follow of {handle} to be accepted")


async def _status_id(spark: Spark, uri: str) -> int:
    async def stored() -> int | None:
        async with spark.db.read() as session:
            return (await session.exec(select(Status.id).where(Status.uri == uri))).first()

    return await eventually(stored, what=f"{uri} to be stored")


async def test_a_mastodon_poll_is_shown_voted_on_and_updated(
    start_spark, aiohttp_client, aiohttp_server
) -> None:
    spark = await start_spark()
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alices, alice = await api_client(spark, aiohttp_client, "alice")
    await _follow(spark, alice, f"bob@{peer.domain}")
    create = peer.create_question("bob", "Best season?", ["Spring", "Autumn"])
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202
    question = create["object"]
    status_id = await _status_id(spark, question["id"])
    status = await (await alices.get(f"/api/v1/statuses/{status_id}")).json()
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["Spring", "Autumn"]
    assert poll["multiple"] is False and poll["voted"] is False and poll["expires_at"] is not None

    voted = await (await alices.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [1]})).json()
    assert voted["own_votes"] == [1] and [o["votes_count"] for o in voted["options"]] == [0, 1]
    record = await peer.wait_for(lambda r: r.type == "Create" and r.json["object"].get("name") == "Autumn")
    assert record.accepted, record.error
    note = record.json["object"]
    assert note["type"] == "Note" and note["inReplyTo"] == question["id"]
    assert note["attributedTo"] == alice.uri and note["to"] == peer.actor_id("bob")
    assert record.json["to"] == peer.actor_id("bob") and "content" not in note

    update = peer.update_question("bob", question["id"], [4, 7], 11)
    assert (await peer.send(update, f"{spark.base}/inbox", "bob")).status == 202

    async def refreshed() -> bool:
        entity = await (await alices.get(f"/api/v1/polls/{poll['id']}")).json()
        return [o["votes_count"] for o in entity["options"]] == [4, 7] and entity["voters_count"] == 11

    await eventually(refreshed, what="the Update(Question) to refresh the counts")
    closing = peer.update_question("bob", question["id"], [4, 8], 12, closed=True)
    assert (await peer.send(closing, f"{spark.base}/inbox", "bob")).status == 202

    async def closed() -> bool:
        entity = await (await alices.get(f"/api/v1/polls/{poll['id']}")).json()
        return entity["expired"] is True

    await eventually(closed, what="the closing Update to end the poll")


async def test_a_mastodon_vote_on_a_spark_poll_counts_once(
    start_spark, aiohttp_client, aiohttp_server
) -> None:
    spark = await start_spark(poll_update_seconds=0.0)
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alices, alice = await api_client(spark, aiohttp_client, "alice")
    await peer.follow_remote("bob", alice.uri)
    await peer.wait_for(lambda r: r.type == "Accept" and r.verified)
    body = {"status": "Cats or dogs?", "poll": {"options": ["Cats", "Dogs"], "expires_in": 3600}}
    status = await (await alices.post("/api/v1/statuses", json=body)).json()
    record = await peer.wait_for(lambda r: r.type == "Create")
    question = record.json["object"]
    assert question["type"] == "Question" and question["id"] == status["uri"]
    assert [o["name"] for o in question["oneOf"]] == ["Cats", "Dogs"]
    assert question["oneOf"][0] == {
        "type": "Note",
        "name": "Cats",
        "replies": {"type": "Collection", "totalItems": 0},
    }
    assert "anyOf" not in question and "closed" not in question
    assert question["endTime"].endswith("Z") and question["votersCount"] == 0
    assert "votersCount" in str(record.json["@context"])

    vote = peer.vote("bob", question["id"], alice.uri, "Dogs")
    assert (await peer.send(vote, f"{spark.base}/users/alice/inbox", "bob")).status == 202
    again = {**vote, "id": vote["id"] + "-again"}  # the same vote Note, delivered a second time
    assert (await peer.send(again, f"{spark.base}/inbox", "bob")).status == 202
    update = await peer.wait_for(lambda r: r.type == "Update" and r.json["object"]["id"] == question["id"])
    assert update.accepted, update.error
    counted = update.json["object"]
    assert [o["replies"]["totalItems"] for o in counted["oneOf"]] == [0, 1] and counted["votersCount"] == 1
    await peer.drain()
    entity = await (await alices.get(f"/api/v1/polls/{status['poll']['id']}")).json()
    assert [o["votes_count"] for o in entity["options"]] == [0, 1] and entity["voters_count"] == 1
    async with spark.db.read() as session:
        assert (await session.exec(select(func.count()).select_from(PollVote))).one() == 1
        assert (await session.exec(select(func.count()).select_from(Status))).one() == 1  # no reply stored


async def test_spark_to_spark_poll_and_vote(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(poll_update_seconds=0.0), await start_spark(poll_update_seconds=0.0)
    alices, _alice = await api_client(a, aiohttp_client, "alice")
    bobs, bob = await api_client(b, aiohttp_client, "bob")
    carols, _carol = await api_client(b, aiohttp_client, "carol")
    await _follow(b, bob, f"alice@{a.domain}")
    body = {
        "status": "Pick any",
        "poll": {"options": ["Red", "Green", "Blue"], "expires_in": 600, "multiple": True},
    }
    posted = await (await alices.post("/api/v1/statuses", json=body)).json()
    remote_id = await _status_id(b, posted["uri"])
    remote = await (await bobs.get(f"/api/v1/statuses/{remote_id}")).json()
    assert remote["poll"]["multiple"] is True and [o["title"] for o in remote["poll"]["options"]] == [
        "Red",
        "Green",
        "Blue",
    ]
    voted = await bobs.post(f"/api/v1/polls/{remote['poll']['id']}/votes", json={"choices": [0, 2]})
    assert (await voted.json())["own_votes"] == [0, 2]

    async def counted_at_home() -> bool:
        entity = await (await alices.get(f"/api/v1/polls/{posted['poll']['id']}")).json()
        return [o["votes_count"] for o in entity["options"]] == [1, 0, 1] and entity["voters_count"] == 1

    await eventually(counted_at_home, what="bob's votes to reach alice's server")
    late = await carols.get(f"/api/v1/polls/{remote['poll']['id']}")
    assert [o["votes_count"] for o in (await late.json())["options"]] == [1, 0, 1]

    async def one_voter_at_b() -> bool:
        async with b.db.read() as session:
            poll = await session.get(Poll, remote_id)
        return poll is not None and poll.voters_count == 1 and poll.tallies == [1, 0, 1]

    await eventually(one_voter_at_b, what="alice's Update to settle the counts on bob's server")
