"""Scheduled posts: kept until their time, then published once by the durable queue (docs/posts.md)."""

import asyncio
import functools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
from mastodon import Mastodon
from sqlalchemy import update
from sqlmodel import col, select

from outbox import scheduled
from spark_fed.models import MediaAttachment, ScheduledMedia, ScheduledStatus, Status
from spark_fed.models.types import utcnow
from spark_fed.queue.scheduled import scheduled_worker

from .conftest import Spark, eventually, free_port, test_config
from .peers.misbehaving import Behaviour, Inbox
from .rows import count_rows
from .test_api_media import image_bytes
from .test_delivery_leases import _worker
from .test_mastodon_py import _sign_in, _with_password


async def _due_now(spark: Spark, scheduled_id: int) -> None:
    """Bring a scheduled post's time to now: the API refuses anything under five minutes ahead."""
    async with spark.db.write() as session:
        await session.exec(
            update(ScheduledStatus)
            .where(col(ScheduledStatus.id) == scheduled_id)
            .values(scheduled_at=utcnow(), next_attempt_at=utcnow())
        )


async def _posted(spark: Spark, text: str) -> list[Status]:
    async with spark.db.read() as session:
        found = await session.exec(select(Status).where(col(Status.content).contains(text)))
        return list(found.all())


async def test_mastodon_py_schedules_lists_moves_and_cancels(spark: Spark) -> None:
    await _with_password(spark, "alice")
    alice: Mastodon = await asyncio.to_thread(_sign_in, spark.base, "alice")
    media = await asyncio.to_thread(alice.media_post, image_bytes(), "image/png", description="a blue square")
    at = datetime.now(UTC) + timedelta(hours=2)
    first = await asyncio.to_thread(
        alice.status_post,
        "later, with a picture",
        media_ids=[media["id"]],
        scheduled_at=at,
        spoiler_text="wait for it",
        visibility="unlisted",
        language="en",
    )
    assert first["params"]["text"] == "later, with a picture"
    assert first["params"]["visibility"] == "unlisted" and first["params"]["spoiler_text"] == "wait for it"
    assert [m["id"] for m in first["media_attachments"]] == [media["id"]]
    assert abs(first["scheduled_at"] - at) < timedelta(seconds=1)
    second = await asyncio.to_thread(alice.status_post, "even later", scheduled_at=at + timedelta(days=1))

    listed = await asyncio.to_thread(alice.scheduled_statuses)
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    page = await asyncio.to_thread(alice.scheduled_statuses, limit=1)
    older = await asyncio.to_thread(alice.fetch_next, page)
    assert [s["id"] for s in page + older] == [second["id"], first["id"]]

    moved = await asyncio.to_thread(alice.scheduled_status_update, first["id"], at + timedelta(hours=1))
    assert abs(moved["scheduled_at"] - (at + timedelta(hours=1))) < timedelta(seconds=1)
    shown = await asyncio.to_thread(alice.scheduled_status, first["id"])
    assert shown["scheduled_at"] == moved["scheduled_at"]

    await asyncio.to_thread(alice.scheduled_status_delete, second["id"])
    assert [s["id"] for s in await asyncio.to_thread(alice.scheduled_statuses)] == [first["id"]]
    assert await _posted(spark, "even later") == []

    # An upload kept for a scheduled post survives the clean-up of unattached uploads.
    assert await spark.ctx.media.remove_unattached(older_than=timedelta(0)) == 0
    await _due_now(spark, int(first["id"]))
    [status] = await eventually(lambda: _posted(spark, "later, with a picture"), what="the post at its time")
    assert status.visibility == "unlisted" and status.summary == "wait for it" and status.sensitive
    async with spark.db.read() as session:
        attached = (await session.exec(select(MediaAttachment.status_id))).all()
    assert attached == [status.id]
    assert await asyncio.to_thread(alice.scheduled_statuses) == []
    assert await count_rows(spark, ScheduledStatus) == 0 and await count_rows(spark, ScheduledMedia) == 0


async def test_bad_times_are_refused_and_nothing_is_stored(spark: Spark) -> None:
    await _with_password(spark, "alice")
    alice: Mastodon = await asyncio.to_thread(_sign_in, spark.base, "alice")
    now = datetime.now(UTC)
    bad = [
        (now - timedelta(hours=1)).isoformat(),
        (now + timedelta(minutes=4)).isoformat(),
        (now + timedelta(days=3 * 365)).isoformat(),
        "next tuesday",
        "2026-13-45T99:00:00Z",
    ]
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for when in bad:
            body = {"status": "never", "scheduled_at": when}
            async with http.post(f"{spark.base}/api/v1/statuses", json=body) as r:
                assert r.status == 422, when
                assert set(await r.json()) == {"error"}
        ok = {"status": "fine", "scheduled_at": (now + timedelta(minutes=10)).isoformat()}
        async with http.post(f"{spark.base}/api/v1/statuses", data=ok) as r:
            assert r.status == 200
            made = await r.json()
        for when in bad:
            url = f"{spark.base}/api/v1/scheduled_statuses/{made['id']}"
            async with http.put(url, json={"scheduled_at": when}) as r:
                assert r.status == 422, when
        async with http.get(f"{spark.base}/api/v1/scheduled_statuses/{made['id']}") as r:
            assert (await r.json())["scheduled_at"] == made["scheduled_at"]
        async with http.get(f"{spark.base}/api/v1/scheduled_statuses/999999") as r:
            assert r.status == 404
    assert await count_rows(spark, ScheduledStatus) == 1
    assert await _posted(spark, "never") == [] and await _posted(spark, "fine") == []


async def test_limits_per_day_and_in_all(spark: Spark, monkeypatch) -> None:
    alice = await spark.user("alice")
    day = (utcnow() + timedelta(days=2)).replace(hour=12, minute=0)
    monkeypatch.setattr(scheduled, "MAX_PER_DAY", 3)
    monkeypatch.setattr(scheduled, "MAX_PENDING", 5)
    for n in range(3):
        await scheduled.schedule(spark.ctx, alice, scheduled.Draft(f"post {n}"), day + timedelta(minutes=n))
    try:
        await scheduled.schedule(spark.ctx, alice, scheduled.Draft("one too many"), day + timedelta(hours=1))
    except scheduled.UsageError as exc:
        assert "one day" in str(exc)
    else:
        raise AssertionError("a fourth post on one day was accepted")
    for n in range(2):
        await scheduled.schedule(spark.ctx, alice, scheduled.Draft(f"next {n}"), day + timedelta(days=1 + n))
    try:
        await scheduled.schedule(spark.ctx, alice, scheduled.Draft("too many"), day + timedelta(days=9))
    except scheduled.UsageError as exc:
        assert "at most 5" in str(exc)
    else:
        raise AssertionError("a sixth waiting post was accepted")
    assert await count_rows(spark, ScheduledStatus) == 5


async def test_a_scheduled_post_survives_a_restart_and_is_published_once(start_spark) -> None:
    first = await start_spark()
    alice = await first.user("alice")
    at = utcnow() + timedelta(minutes=30)
    row = await scheduled.schedule(first.ctx, alice, scheduled.Draft("after the restart"), at)
    config = first.config
    await first.stop()

    again = await start_spark(config)
    await _due_now(again, row.id)
    await eventually(lambda: _posted(again, "after the restart"), what="the post after a restart")
    # Its row went in the transaction that stored the post: nothing is left to publish twice.
    assert await count_rows(again, ScheduledStatus) == 0
    assert len(await _posted(again, "after the restart")) == 1


async def test_workers_racing_for_a_due_post_publish_it_once(spark: Spark) -> None:
    alice = await spark.user("alice")
    row = await scheduled.schedule(
        spark.ctx, alice, scheduled.Draft("only once"), utcnow() + timedelta(hours=1)
    )
    workers = [scheduled_worker(spark.db, functools.partial(scheduled.publish, spark.ctx)) for _ in range(3)]
    await _due_now(spark, row.id)
    await asyncio.gather(*(worker.run_once() for worker in workers))
    await eventually(lambda: _posted(spark, "only once"), what="the post")
    assert len(await _posted(spark, "only once")) == 1
    assert await count_rows(spark, ScheduledStatus) == 0


async def test_a_lease_lost_to_a_cancel_publishes_nothing(spark: Spark) -> None:
    """The worker claimed the post, then its author cancelled it: the publication stores nothing."""
    alice = await spark.user("alice")
    row = await scheduled.schedule(
        spark.ctx, alice, scheduled.Draft("cancelled at the last moment"), utcnow() + timedelta(hours=1)
    )
    claimed = ScheduledStatus(**row.model_dump())
    claimed.lease_token = "a lease that is no longer held"
    await scheduled.cancel(spark.ctx, alice, row.id)
    try:
        await scheduled.publish(spark.ctx, claimed)
    except scheduled.GiveUp:
        pass
    else:
        raise AssertionError("a cancelled post was published")
    assert await _posted(spark, "cancelled at the last moment") == []


def test_post_at_and_scheduled_commands(tmp_path, capsys) -> None:
    from tests.cli import cli_runner

    run = cli_runner(tmp_path, capsys)
    assert run("users", "create", "alice")[0] == 0
    at = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, out, err = run("post", "alice", "from the command line", "--at", at, "--cw", "later")
    assert status == 0, err
    assert out.splitlines()[-1].isdigit() and at in out
    for when in ("yesterday", "2001-01-01T00:00:00Z", (datetime.now(UTC) + timedelta(minutes=4)).isoformat()):
        status, _, err = run("post", "alice", "never", "--at", when)
        assert status == 2 and len(err.strip().splitlines()) == 1
    status, out, _ = run("scheduled", "alice", "--json")
    [item] = json.loads(out)
    assert item["text"] == "from the command line" and item["scheduled_at"] == at
    assert item["spoiler_text"] == "later"
    status, out, _ = run("scheduled", "alice")
    assert status == 0 and "from the command line" in out


async def test_a_worker_killed_mid_publish_leaves_the_post_to_the_next_one(
    start_spark, database_url, tmp_path
) -> None:
    """A real `spark-fed worker` claims the post and hangs on a mention's WebFinger; it is killed
    with SIGKILL, its lease runs out, and another worker publishes the post, once."""
    config = test_config(await database_url(), free_port())
    spark = await start_spark(replace(config, server=replace(config.server, run_workers=False)))
    alice = await spark.user("alice")
    slow = await Inbox(Behaviour.HANG).start()
    worker_config = tmp_path / "worker.toml"
    worker_config.write_text(
        f'[server]\ndomain = "{spark.domain}"\nrun_workers = false\n'
        f'[database]\nurl = "{spark.config.database.url}"\n'
        "[federation]\nallow_private_addresses = true\nfirst_byte_timeout = 30.0\nrequest_timeout = 40.0\n"
    )
    text = f"hello @bob@{slow.host}, this was scheduled"
    row = await scheduled.schedule(spark.ctx, alice, scheduled.Draft(text), utcnow() + timedelta(hours=1))
    await _due_now(spark, row.id)
    doomed = await _worker(worker_config)
    survivor = None
    try:

        async def claimed_and_hanging() -> bool:
            async with spark.db.read() as session:
                held = (await session.exec(select(ScheduledStatus.locked_until))).first()
            return held is not None and slow.requests >= 1

        await eventually(claimed_and_hanging, timeout=30, what="the worker to hang mid-publish")
        doomed.kill()
        await doomed.wait()
        assert await _posted(spark, "this was scheduled") == []
        slow.behaviour = Behaviour.ANSWER  # WebFinger now fails at once: the mention stays text
        async with spark.db.write() as session:  # the dead worker's lease runs out
            await session.exec(update(ScheduledStatus).values(locked_until=utcnow() - timedelta(seconds=1)))
        survivor = await _worker(worker_config)
        await eventually(lambda: _posted(spark, "this was scheduled"), timeout=30, what="the post")
        async with spark.db.read() as session:
            left = (await session.exec(select(ScheduledStatus.id))).all()
        assert left == [] and len(await _posted(spark, "this was scheduled")) == 1
    finally:
        for process in (doomed, survivor):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()
        await slow.close()
