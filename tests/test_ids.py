"""Snowflake ids, unique by construction: any number of statuses of one millisecond, first try."""

import asyncio
from datetime import UTC, datetime, timedelta

from spark_fed.models import Follow, FollowState, Status
from spark_fed.models.ids import PER_MILLISECOND, new_ids, snowflake_floor
from spark_fed.queries.timelines import TimelineKind, timeline

from .conftest import Spark
from .peers import FakeMastodon

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SECOND = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BURST = 50_000
BATCH = 1_000


def _note(peer: FakeMastodon, number: int) -> dict:
    actor = peer.actor_id("bob")
    return {
        "id": f"{actor}/statuses/burst-{number}",
        "type": "Note",
        "attributedTo": actor,
        "to": [PUBLIC],
        "cc": [peer.followers_url("bob")],
        "published": SECOND.isoformat().replace("+00:00", "Z"),
        "content": f"<p>note {number}</p>",
    }


async def _follower_of_bob(spark: Spark, peer: FakeMastodon):
    alice = await spark.user("alice")
    bob = await spark.ctx.actors.get(peer.actor_id("bob"))
    async with spark.db.write() as session:
        session.add(
            Follow(follower_id=alice.id, followee_id=bob.id, uri=f"{alice.uri}#f", state=FollowState.ACCEPTED)
        )
    return alice, bob


async def test_fifty_thousand_notes_of_one_second_are_all_stored_and_in_the_timeline(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice, bob = await _follower_of_bob(spark, peer)

    for start in range(0, BURST, BATCH):
        notes = [_note(peer, n) for n in range(start, start + BATCH)]
        stored = await spark.ctx.notes.ingest_many(notes, bob)
        assert all(isinstance(s, Status) for s in stored), [s for s in stored if not isinstance(s, Status)][
            :3
        ]

    seen: list[int] = []
    uris: set[str] = set()
    max_id = None
    async with spark.db.read() as session:
        while page := await timeline(session, alice, TimelineKind.HOME, limit=5_000, max_id=max_id):
            seen += [item.status.id for item in page]
            uris |= {item.status.uri for item in page}
            max_id = page[-1].status.id
    assert uris == {_note(peer, n)["id"] for n in range(BURST)}
    assert seen == sorted(set(seen), reverse=True)  # every id once, newest first
    floor = snowflake_floor(SECOND)
    assert floor <= min(seen) and max(seen) < floor + PER_MILLISECOND  # all of that one millisecond


async def test_concurrent_writers_of_one_millisecond_never_collide(spark: Spark, aiohttp_server) -> None:
    """Each note in a transaction of its own, all at once: on PostgreSQL they really overlap."""
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    _, bob = await _follower_of_bob(spark, peer)

    stored = await asyncio.gather(*(spark.ctx.notes.ingest(_note(peer, n), sender=bob) for n in range(200)))

    assert len({status.id for status in stored}) == 200
    async with spark.db.read() as session:
        for status in stored:
            assert (await session.get(Status, status.id)).uri == status.uri


async def test_a_full_millisecond_goes_on_in_the_next(spark: Spark) -> None:
    async with spark.db.write() as session:
        first = await new_ids(session, SECOND, PER_MILLISECOND - 2)
        spill = await new_ids(session, SECOND, 5)
        following = await new_ids(session, SECOND + timedelta(milliseconds=1))
    floor = snowflake_floor(SECOND)
    assert first == list(range(floor, floor + PER_MILLISECOND - 2))
    assert spill == [
        floor + PER_MILLISECOND - 2,
        floor + PER_MILLISECOND - 1,
        *range(floor + PER_MILLISECOND, floor + PER_MILLISECOND + 3),
    ]
    assert following == [floor + PER_MILLISECOND + 3]  # the next millisecond's own counter knew
