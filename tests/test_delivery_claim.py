"""The delivery claim: a per-host cap that holds across workers, and a bounded share for hosts in trouble.

The claims run on the test's real database (SQLite or PostgreSQL), from two `Database`s, as two
worker processes would; the server itself runs no worker, so only the test claims. Nothing is
sent: the inboxes are on a port nobody listens on.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from sqlmodel import col, func, select

from spark_fed.db import Database
from spark_fed.delivery import enqueue
from spark_fed.models import Account, Delivery, DeliveryHost
from spark_fed.models.types import utcnow
from spark_fed.queue.hosts import claim_deliveries, lease_planned, plan_claim

from .conftest import Spark, free_port, test_config

LEASE = timedelta(seconds=30)
PER_HOST = 16
ROUNDS = 5


async def _spark(start_spark: Callable[..., Awaitable[Spark]], database_url) -> Spark:
    config = test_config(await database_url(), free_port())
    return await start_spark(replace(config, server=replace(config.server, run_workers=False)))


async def _queue(spark: Spark, sender: Account, inboxes: list[str], count: int = 1) -> None:
    async with spark.db.write() as session:
        for n in range(count):
            activity = {"id": f"{sender.uri}#{n}", "type": "Create", "actor": sender.uri, "object": str(n)}
            enqueue(session, sender, activity, inboxes)


async def _in_flight(spark: Spark, host: str) -> int:
    async with spark.db.read() as session:
        leased = select(func.count()).where(
            col(Delivery.host) == host, col(Delivery.locked_until) >= utcnow()
        )
        return (await session.exec(leased)).one()


async def test_two_workers_claiming_at_the_same_instant_keep_the_per_host_cap(
    start_spark, database_url
) -> None:
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    other = Database(spark.config.database.url)
    try:
        # Several rounds, a host each: on PostgreSQL the two leases race for real every time.
        for _ in range(ROUNDS):
            host = f"127.0.0.1:{free_port()}"
            await _queue(spark, alice, [f"http://{host}/inbox"], count=3 * PER_HOST)
            # Both read the queue before either leases: each sees the host with nothing in flight.
            first = await plan_claim(spark.db, 64, per_host=PER_HOST)
            second = await plan_claim(other, 64, per_host=PER_HOST)
            assert first.take == second.take == {host: PER_HOST}
            claimed = await asyncio.gather(
                lease_planned(spark.db, first, LEASE), lease_planned(other, second, LEASE)
            )
            assert sum(len(jobs) for jobs in claimed) == PER_HOST
            assert await _in_flight(spark, host) == PER_HOST
            # The ids they took are distinct and the host's oldest.
            ids = sorted(job.id for jobs in claimed for job in jobs)
            async with spark.db.read() as session:
                oldest = select(Delivery.id).where(col(Delivery.host) == host).order_by(col(Delivery.id))
                assert ids == list((await session.exec(oldest.limit(PER_HOST))).all())
    finally:
        await other.dispose()


async def test_hosts_in_trouble_share_a_bounded_number_of_requests(start_spark, database_url) -> None:
    spark = await _spark(start_spark, database_url)
    alice = await spark.user("alice")
    failing = [f"127.0.0.1:{free_port()}" for _ in range(8)]
    healthy = f"127.0.0.1:{free_port()}"
    # The failing hosts' deliveries are queued first: the oldest, and still not first in line.
    await _queue(spark, alice, [f"http://{host}/inbox" for host in failing])
    await _queue(spark, alice, [f"http://{healthy}/inbox"], count=5)
    async with spark.db.write() as session:
        for host in failing:
            session.add(DeliveryHost(host=host, failures=1, last_error="timed out"))

    def claim(finished: list[int] | tuple[()] = ()) -> Awaitable[list[Delivery]]:
        return claim_deliveries(spark.db, 64, LEASE, finished, per_host=PER_HOST, failing_slots=3)

    first = await claim()
    assert [job.host for job in first].count(healthy) == 5
    taken = [job for job in first if job.host != healthy]
    assert len(taken) == 3
    # The share is used up while those three are in flight, whoever asks.
    assert await claim() == []
    # Once they are finished (done, not yet written), the next three hosts get their turn.
    following = await claim([job.id for job in taken])
    assert len(following) == 3 and not {job.host for job in following} & {job.host for job in taken}
