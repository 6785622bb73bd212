"""Durable delivery: retries, permanent failures, restarts, and several workers on one queue."""

import asyncio
import json

from aiohttp import web
from sqlalchemy import func, update
from sqlmodel import select

from outbox import actions
from spark_fed.context import open_context
from spark_fed.db import Database
from spark_fed.delivery import enqueue
from spark_fed.migrations import upgrade
from spark_fed.models import Account, Delivery, Follow, FollowState, InboxItem, JobState
from spark_fed.models.types import utcnow
from spark_fed.queue import Worker

from .conftest import Spark, eventually
from .peers import FakeMastodon


async def _followed(a: Spark, b: Spark) -> tuple[Account, Account]:
    alice, bob = await a.user("alice"), await b.user("bob")
    await actions.follow(a.ctx, alice, bob.uri)

    async def accepted() -> bool:
        async with a.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="the follow to be accepted")
    return alice, bob


async def _followers_on(spark: Spark) -> int:
    async with spark.db.read() as session:
        return (await session.exec(select(func.count()).select_from(Follow))).one()


async def _deliveries(db: Database) -> list[Delivery]:
    async with db.read() as session:
        return list((await session.exec(select(Delivery))).all())


async def _make_due(db: Database) -> None:
    """Skip the backoff wait (seconds to minutes) so the test need not sit through it."""
    async with db.write() as session:
        await session.exec(update(Delivery).values(next_attempt_at=utcnow()))


async def test_delivery_to_a_peer_that_is_down_arrives_once_it_is_up(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, _bob = await _followed(a, b)
    await b.stop()
    await actions.unfollow(a.ctx, alice, f"bob@{b.domain}")

    async def failed_once() -> list[Delivery]:
        return [d for d in await _deliveries(a.db) if d.attempts >= 1]

    [failed] = await eventually(failed_once, what="the first attempt to fail")
    assert failed.state == JobState.QUEUED
    assert failed.last_error and "127.0.0.1" in failed.last_error
    assert failed.next_attempt_at > utcnow()
    b = await start_spark(b.config)
    await _make_due(a.db)

    async def undone() -> bool:
        return await _followers_on(b) == 0

    await eventually(undone, what="the retried Undo to arrive")

    async def settled() -> bool:  # the 202 came before b processed the Undo; settling follows it
        return await _deliveries(a.db) == []

    await eventually(settled, what="the delivery to be settled")


async def test_queued_delivery_survives_a_restart_of_the_sender(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, _bob = await _followed(a, b)
    await a.stop()
    async with open_context(a.config) as ctx:  # as `spark-fed unfollow` would, with no server running
        await actions.unfollow(ctx, alice, f"bob@{b.domain}")
        assert len(await _deliveries(ctx.db)) == 1
    assert await _followers_on(b) == 1
    a = await start_spark(a.config)

    async def undone() -> bool:
        return await _followers_on(b) == 0

    await eventually(undone, what="the queued Undo to go out after the restart")


async def test_work_queued_by_a_command_is_picked_up_by_the_running_server(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    alice, _bob = await _followed(a, b)
    async with open_context(a.config) as ctx:  # a second process's view of the same database
        await actions.unfollow(ctx, alice, f"bob@{b.domain}")

    async def undone() -> bool:
        return await _followers_on(b) == 0

    await eventually(undone, timeout=5, what="the server's worker to find the command's delivery")


async def test_results_are_classified_like_mastodon(spark: Spark, aiohttp_server) -> None:
    answers = {
        "/ok": 202,
        "/gone": 410,
        "/missing": 404,
        "/busy": 429,
        "/unauth": 401,
        "/down": 503,
        "/nope": 501,
    }
    seen: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"error": "because"}, status=answers[request.path])

    app = web.Application()
    app.router.add_post("/{name}", inbox)
    server = await aiohttp_server(app)
    alice = await spark.user("alice")
    async with spark.db.write() as session:
        gone = Account(
            uri=str(server.make_url("/users/gone")),
            username="gone",
            domain=f"127.0.0.1:{server.port}",
            inbox_url=str(server.make_url("/gone")),
            public_key_id=str(server.make_url("/users/gone#main-key")),
            public_key_pem="unused",
        )
        session.add(gone)
        activity = {"id": f"{alice.uri}#test", "type": "Like", "actor": alice.uri, "object": "x"}
        enqueue(session, alice, activity, [str(server.make_url(path)) for path in answers])

    async def all_tried() -> bool:
        return len(seen) >= len(answers)

    await eventually(all_tried, what="one attempt at each inbox")

    async def settled() -> dict[str, tuple[str, int]] | None:
        rows = {d.inbox_url.rsplit("/", 1)[1]: (d.state, d.attempts) for d in await _deliveries(spark.db)}
        return (
            rows if all(attempts or state != JobState.QUEUED for state, attempts in rows.values()) else None
        )

    rows = await eventually(settled, what="every delivery to be settled or rescheduled")
    assert "ok" not in rows  # done deliveries are removed
    for name in ("gone", "missing", "nope"):
        assert rows[name][0] == JobState.FAILED, name
    for name in ("busy", "unauth", "down"):
        assert rows[name] == (JobState.QUEUED, 1), name
    failures = {d.inbox_url.rsplit("/", 1)[1]: d.last_error for d in await _deliveries(spark.db)}
    assert failures["missing"].endswith("answered 404: because")
    async with spark.db.read() as session:
        assert (await session.exec(select(Account).where(Account.username == "gone"))).first() is None


async def test_several_workers_never_take_the_same_job(database_url) -> None:
    """Two workers with their own connections, as two `spark-fed worker` processes have."""
    url = await database_url()
    first, second = Database(url), Database(url)
    try:
        await upgrade(first)
        async with first.write() as session:
            sender = Account(
                uri="https://x.example/u",
                username="u",
                inbox_url="https://x.example/i",
                public_key_id="k",
                public_key_pem="p",
                private_key_pem="unused",
            )
            session.add(sender)
            await session.flush()
            for n in range(120):
                session.add(
                    Delivery(
                        sender_id=sender.id, inbox_url=f"https://x.example/{n}", activity_id="a", body="{}"
                    )
                )
        handled: list[int] = []

        async def handle(job: Delivery) -> None:
            handled.append(job.id)
            await asyncio.sleep(0.001)

        workers = [Worker(db, Delivery, handle, concurrency=7) for db in (first, second)]
        for _ in range(40):
            counts = await asyncio.gather(*(w.run_once() for w in workers))
            if sum(counts) == 0:
                break
        assert sorted(handled) == sorted(set(handled))
        assert len(handled) == 120
        assert await _deliveries(first) == []
    finally:
        await first.dispose()
        await second.dispose()


async def test_stored_activity_is_processed_after_a_crash_before_processing(
    spark: Spark, start_spark, aiohttp_server
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    await peer.follow_remote("bob", alice.uri)

    async def followed() -> bool:
        return await _followers_on(spark) == 1

    await eventually(followed)
    await spark.stop()
    # What the intake had committed when the process died, before any worker ran.
    db = Database(spark.config.database.url)
    try:
        undo = peer.undo_follow("bob", alice.uri)
        async with db.write() as session:
            session.add(
                InboxItem(dedup_key=undo["id"], actor_uri=peer.actor_id("bob"), body=json.dumps(undo))
            )
    finally:
        await db.dispose()
    restarted = await start_spark(spark.config)

    async def unfollowed() -> bool:
        return await _followers_on(restarted) == 0

    await eventually(unfollowed, what="the stored Undo to be processed after the restart")
