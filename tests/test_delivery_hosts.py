"""One dead or slow host costs only its own deliveries (issue #24).

Every peer is a real loopback server that misbehaves for real (tests/peers/misbehaving.py):
it hangs after accepting, refuses, trickles, answers 503 with Retry-After, or comes back
after a pause, beside a live peer. Timeouts are configured short so the tests take seconds.
"""

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from outbox import moderation
from spark_fed.config import DeliveryConfig
from spark_fed.delivery import enqueue
from spark_fed.federation.documents import host_of
from spark_fed.models import Account, Delivery, DeliveryHost
from spark_fed.passwords import hash_password
from spark_fed.state import HOST_HEALTH

from .conftest import CHEAP_PASSWORDS, Spark, eventually, free_port, test_config
from .peers import FakeMastodon
from .peers.misbehaving import Behaviour, Inbox, RefusingHost

FRESH_POST_SECONDS = 2.0
SCRIPT = Path(sys.executable).parent / "spark-fed"


async def _spark(
    start_spark: Callable[..., Awaitable[Spark]],
    database_url: Callable[[], Awaitable[str]],
    *,
    first_byte: float = 1.0,
    total: float = 2.0,
    **delivery: object,
) -> Spark:
    port = free_port()
    config = test_config(
        await database_url(), port, connect_timeout=1.0, first_byte_timeout=first_byte, request_timeout=total
    )
    settings = replace(DeliveryConfig(), pause_seconds=0.5, **delivery)
    return await start_spark(replace(config, delivery=settings))


async def _queue(spark: Spark, sender: Account, name: str, inboxes: list[str]) -> str:
    """Queue one activity to INBOXES, as a post does; returns its id."""
    activity = {"id": f"{sender.uri}#{name}", "type": "Create", "actor": sender.uri, "object": name}
    async with spark.db.write() as session:
        enqueue(session, sender, activity, inboxes)
    spark.ctx.deliveries_queued()
    return activity["id"]


async def _queued(spark: Spark) -> int:
    async with spark.db.read() as session:
        return (await session.exec(select(func.count()).select_from(Delivery))).one()


async def _arrives(inbox: Inbox, activity_id: str, within: float) -> float:
    """Seconds until INBOX acknowledged ACTIVITY_ID; fails after WITHIN."""
    started = time.monotonic()

    async def arrived() -> bool:
        return activity_id in inbox.ids()

    await eventually(arrived, timeout=within, what=f"{activity_id} at {inbox.host}")
    return time.monotonic() - started


async def test_a_hanging_host_with_a_backlog_delays_no_one_and_gets_everything_once_back(
    start_spark, database_url
) -> None:
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    dead, live = await Inbox(Behaviour.HANG).start(), await Inbox().start()
    try:
        backlog = [await _queue(spark, alice, f"old{n}", [dead.url]) for n in range(300)]

        async def hanging() -> bool:
            return dead.requests >= DeliveryConfig().per_host

        await eventually(hanging, what="deliveries to hang at the dead host")
        fresh = await _queue(spark, alice, "fresh", [dead.url, live.url])
        assert await _arrives(live, fresh, FRESH_POST_SECONDS) < FRESH_POST_SECONDS
        # Only a few were ever sent to it: a host that hangs holds per_host slots, then is paused.
        assert dead.requests <= 2 * DeliveryConfig().per_host

        async def paused() -> bool:
            async with spark.db.read() as session:
                row = await session.get(DeliveryHost, dead.host)
            return row is not None and row.paused_until is not None

        await eventually(paused, what="the dead host to be paused")
        dead.behaviour = Behaviour.ANSWER

        async def all_delivered() -> bool:
            return len(dead.ids()) == 301 and await _queued(spark) == 0

        await eventually(all_delivered, timeout=30, what="the backlog to reach the host that came back")
        assert set(dead.ids()) == {*backlog, fresh}
        assert max(dead.ids().values()) == 1, "a delivery acknowledged with 202 was sent again"
        assert live.ids() == {fresh: 1}
    finally:
        await dead.close()
        await live.close()


async def test_three_hundred_hanging_hosts_do_not_hold_back_a_live_one(start_spark, database_url) -> None:
    # The hanging requests outlive the test's wait for the live peer: no timeout rescues it.
    spark = await _spark(start_spark, database_url, first_byte=3.0, total=4.0, pause_after=1)
    alice = await spark.user("alice")
    dead = await asyncio.gather(*(Inbox(Behaviour.HANG).start() for _ in range(300)))
    live = await Inbox().start()
    try:
        first = await _queue(spark, alice, "first", [inbox.url for inbox in dead])

        async def all_hanging() -> bool:
            return all(inbox.requests for inbox in dead)

        # A precondition, not the property: 300 connections on a busy 2-core machine may take a while.
        await eventually(all_hanging, timeout=30, what="a request hanging at every dead host")
        fresh = await _queue(spark, alice, "fresh", [*(inbox.url for inbox in dead), live.url])
        assert await _arrives(live, fresh, FRESH_POST_SECONDS) < FRESH_POST_SECONDS

        for inbox in dead:
            inbox.behaviour = Behaviour.ANSWER

        async def all_delivered() -> bool:
            return all(len(inbox.ids()) == 2 for inbox in dead) and await _queued(spark) == 0

        await eventually(all_delivered, timeout=30, what="both posts at every host that came back")
        for inbox in dead:
            assert inbox.ids() == {first: 1, fresh: 1}, inbox.host
    finally:
        await asyncio.gather(*(inbox.close() for inbox in [*dead, live]))


async def test_a_long_answer_is_a_delivery_and_an_odd_refusal_a_failure(start_spark, database_url) -> None:
    """A 202 with megabytes after it is delivered (only the first bytes of an answer are read),
    and a 503 whose Retry-After is not ASCII digits and whose body nests past Python's recursion
    limit is an ordinary failure, its Retry-After ignored."""
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    verbose = await Inbox(Behaviour.VERBOSE).start()
    odd = await Inbox(Behaviour.BUSY, retry_after="\u00b2", answer_body=b"[" * 50_000).start()
    try:
        post = await _queue(spark, alice, "post", [verbose.url, odd.url])
        assert await _arrives(verbose, post, FRESH_POST_SECONDS) < FRESH_POST_SECONDS

        async def settled() -> list[Delivery] | None:
            async with spark.db.read() as session:
                rows = list((await session.exec(select(Delivery))).all())
            return rows if len(rows) == 1 and rows[0].attempts >= 1 else None

        (left,) = await eventually(settled, what="the verbose host done, the odd one failed once")
        assert left.host == odd.host and "answered 503" in (left.last_error or "")
        async with spark.db.read() as session:
            pause = await session.get(DeliveryHost, odd.host)
        # One failure of three, and no Retry-After to honour: not paused.
        assert pause is not None and pause.failures == 1 and pause.paused_until is None
    finally:
        await asyncio.gather(verbose.close(), odd.close())


async def test_refusing_trickling_and_busy_hosts(start_spark, database_url) -> None:
    spark = await _spark(start_spark, database_url, first_byte=2.0, total=3.0)
    alice = await spark.user("alice")
    refusing = RefusingHost()
    trickling = await Inbox(Behaviour.TRICKLE).start()
    busy = await Inbox(Behaviour.BUSY, retry_after="2").start()
    live = await Inbox().start()
    try:
        started = time.monotonic()
        post = await _queue(spark, alice, "post", [refusing.url, trickling.url, busy.url, live.url])
        assert await _arrives(live, post, FRESH_POST_SECONDS) < FRESH_POST_SECONDS

        async def failed() -> dict[str, Delivery] | None:
            async with spark.db.read() as session:
                rows = {d.host: d for d in (await session.exec(select(Delivery))).all()}
            return rows if len(rows) == 3 and all(d.attempts >= 1 for d in rows.values()) else None

        rows = await eventually(failed, what="the first attempt at each failing host")
        # The trickle is cut at the whole-request deadline, not read for a minute.
        assert time.monotonic() - started < 6
        assert "no complete answer within 3 s" in (rows[trickling.host].last_error or "")
        assert "Connect" in (rows[refusing.url.split("/")[2]].last_error or "")
        assert "answered 503" in (rows[busy.host].last_error or "")
        async with spark.db.read() as session:
            pause = await session.get(DeliveryHost, busy.host)
        # Retry-After pauses the busy host (and the retry) for its 2 s, not for the backoff's 15+.
        assert pause is not None and pause.paused_until is not None
        assert (pause.paused_until - pause.updated_at).total_seconds() == 2
        busy.behaviour = Behaviour.ANSWER
        assert await _arrives(busy, post, 6) < 6
        assert busy.ids() == {post: 1}
        assert busy.requests <= 4, "the busy host was tried more often than it asked"
    finally:
        refusing.close()
        for inbox in (trickling, busy, live):
            await inbox.close()


async def test_a_backlog_to_one_host_does_not_delay_a_fresh_post_to_the_others(
    start_spark, database_url
) -> None:
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    busy_host = await Inbox().start()
    others = await asyncio.gather(*(Inbox().start() for _ in range(20)))
    try:
        for n in range(10):  # a backlog after an outage: 2,000 deliveries to one server
            async with spark.db.write() as session:
                for m in range(200):
                    activity = {"id": f"{alice.uri}#old{n}-{m}", "type": "Create", "actor": alice.uri}
                    enqueue(session, alice, activity, [busy_host.url])
        fresh = await _queue(spark, alice, "fresh", [inbox.url for inbox in others])
        for inbox in others:
            await _arrives(inbox, fresh, FRESH_POST_SECONDS)
        # Every other server had the post while most of the backlog was still waiting.
        assert len(busy_host.received) < 1000
    finally:
        await asyncio.gather(*(inbox.close() for inbox in [busy_host, *others]))


async def test_a_signed_request_from_a_paused_host_resumes_its_deliveries(
    start_spark, database_url, aiohttp_server
) -> None:
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    peer, live = FakeMastodon("bob"), await Inbox().start()
    await peer.start(aiohttp_server)
    try:
        # Paused for an hour, as a 503 with `Retry-After: 3600` leaves it.
        health = spark.app[HOST_HEALTH]
        health.failed(host_of(peer.inbox_url("bob")), "503", timedelta(hours=1))
        await health.flush()
        post = await _queue(spark, alice, "post", [peer.inbox_url("bob")])
        later = await _queue(spark, alice, "later", [live.url])
        await _arrives(live, later, FRESH_POST_SECONDS)

        async def only_the_paused_one_left() -> list[Delivery] | None:
            # The live one's row goes with the worker's next batch of outcomes.
            async with spark.db.read() as session:
                rows = list((await session.exec(select(Delivery))).all())
            return rows if len(rows) == 1 else None

        [waiting] = await eventually(only_the_paused_one_left, timeout=FRESH_POST_SECONDS)
        assert (waiting.attempts, waiting.locked_until, peer.inbox_log) == (0, None, [])

        note = peer.create_note("bob", "I am back")
        assert (await peer.send(note, f"{spark.base}/inbox", "bob")).status == 202

        async def delivered() -> bool:
            return any(record.json.get("id") == post and record.verified for record in peer.inbox_log)

        await eventually(delivered, timeout=FRESH_POST_SECONDS, what="the paused delivery after the request")
    finally:
        await live.close()


async def _command(spark: Spark, directory: Path, *args: str) -> str:
    """Run `spark-fed` as an admin would, on the server's database; its standard output."""
    config = directory / "spark.toml"
    config.write_text(f'[database]\nurl = "{spark.config.database.url}"\n')
    process = await asyncio.create_subprocess_exec(
        SCRIPT, "--config", str(config), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_admins_see_paused_hosts_and_can_resume_them(
    start_spark, database_url, aiohttp_client, tmp_path: Path
) -> None:
    spark = await _spark(start_spark, database_url, pause_after=1)
    alice = await spark.user("alice", password_hash=await hash_password(CHEAP_PASSWORDS, "a long password"))
    await moderation.set_role(spark.ctx, alice, "moderator")
    await spark.user("bob", password_hash=await hash_password(CHEAP_PASSWORDS, "a long password"))
    busy = await Inbox(Behaviour.BUSY, retry_after="3600").start()
    try:
        posts = [await _queue(spark, alice, f"post{n}", [busy.url]) for n in range(3)]

        async def paused() -> bool:
            async with spark.db.read() as session:
                row = await session.get(DeliveryHost, busy.host)
            return row is not None and row.paused_until is not None

        await eventually(paused, what="the busy host to be paused")
        [row] = json.loads(await _command(spark, tmp_path, "hosts", "list", "--json"))
        assert (row["host"], row["state"], row["waiting"]) == (busy.host, "paused", 3)
        assert row["failures"] >= 1 and row["failures"] >= 1 and "answered 503" in row["last_error"]
        assert row["paused_until"] > datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        for name, shown in (("alice", 200), ("bob", 404)):
            client = await aiohttp_client(spark.server)
            signed_in = await client.post(
                "/auth/sign_in",
                data={"username": name, "password": "a long password", "next": "/"},
                headers={"Sec-Fetch-Site": "same-origin"},
                allow_redirects=False,
            )
            assert signed_in.status == 303
            response = await client.get("/admin/hosts")
            assert response.status == shown, name
            if shown == 200:
                html = await response.text()
                assert busy.host in html and "paused" in html and "answered 503" in html

        busy.behaviour = Behaviour.ANSWER
        await _command(spark, tmp_path, "hosts", "resume", busy.host)
        for post in posts:
            await _arrives(busy, post, FRESH_POST_SECONDS)
        assert busy.ids() == dict.fromkeys(posts, 1)

        async def cleared() -> bool:
            return await _queued(spark) == 0

        await eventually(cleared, what="the deliveries to be settled")
        async with spark.db.read() as session:
            assert await session.get(DeliveryHost, busy.host) is None
    finally:
        await busy.close()
