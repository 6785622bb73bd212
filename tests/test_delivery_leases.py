"""A worker that dies hands its deliveries back within a short lease, renewed while it lives.

The workers are real `spark-fed worker` processes on the test's database, killed with SIGKILL
as the machine or the OOM killer would; the peers are loopback inboxes (tests/peers/misbehaving.py).
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select

from spark_fed.delivery import enqueue
from spark_fed.models import Delivery

from .conftest import Spark, eventually, free_port, test_config
from .peers.misbehaving import Behaviour, Inbox

SCRIPT = Path(sys.executable).parent / "spark-fed"
LEASE_SECONDS = 2.0


def _worker_config(spark: Spark, directory: Path) -> Path:
    """Requests that hang are held for 30 s, far longer than the lease: only renewal keeps them."""
    path = directory / "worker.toml"
    path.write_text(
        f'[server]\ndomain = "{spark.domain}"\nrun_workers = false\n'
        f'[database]\nurl = "{spark.config.database.url}"\n'
        "[federation]\nallow_private_addresses = true\nfirst_byte_timeout = 30.0\nrequest_timeout = 40.0\n"
        f"[delivery]\nlease_seconds = {LEASE_SECONDS}\n"
    )
    return path


async def _worker(config: Path) -> asyncio.subprocess.Process:
    """`spark-fed worker`; its log goes to a file beside the config (a pipe nobody reads would fill)."""
    with (config.parent / "worker.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            SCRIPT, "--config", str(config), "worker", stdout=asyncio.subprocess.DEVNULL, stderr=log
        )


async def _leases(spark: Spark, inbox: Inbox) -> list[datetime]:
    async with spark.db.read() as session:
        query = select(Delivery.locked_until).where(
            col(Delivery.host) == inbox.host, col(Delivery.locked_until).is_not(None)
        )
        return sorted(until for until in (await session.exec(query)).all() if until is not None)


async def test_a_killed_worker_s_deliveries_arrive_once_within_the_lease(
    start_spark: Callable[..., Awaitable[Spark]], database_url, tmp_path: Path
) -> None:
    config = test_config(await database_url(), free_port())
    # The server only stores; the separate workers deliver, as with `server.run_workers = false`.
    spark = await start_spark(replace(config, server=replace(config.server, run_workers=False)))
    alice = await spark.user("alice")
    live, hanging = await Inbox().start(), await Inbox(Behaviour.HANG).start()
    worker_config = _worker_config(spark, tmp_path)
    ids = {inbox.host: [f"{alice.uri}#{inbox.port}-{n}" for n in range(12)] for inbox in (live, hanging)}
    async with spark.db.write() as session:
        for inbox in (live, hanging):
            for activity_id in ids[inbox.host]:
                activity = {"id": activity_id, "type": "Create", "actor": alice.uri}
                enqueue(session, alice, activity, [inbox.url])
    doomed = await _worker(worker_config)
    survivor = None
    try:

        async def live_done_and_hanging_held() -> list[datetime] | None:
            async with spark.db.read() as session:
                left = (await session.exec(select(Delivery.host))).all()
            done = live.host not in left and len(live.received) == 12
            return await _leases(spark, hanging) if done and hanging.requests >= 4 else None

        held = await eventually(live_done_and_hanging_held, timeout=30, what="the worker to be mid-batch")

        async def renewed() -> bool:
            leases = await _leases(spark, hanging)
            return bool(leases) and leases[0] > held[-1]

        # The requests hang for longer than the lease: the worker keeps renewing it.
        await eventually(renewed, timeout=4 * LEASE_SECONDS, what="the first worker to renew its leases")
        doomed.kill()
        await doomed.wait()
        hanging.behaviour = Behaviour.ANSWER
        survivor = await _worker(worker_config)

        async def all_arrived() -> bool:
            return len(hanging.ids()) == 12

        await eventually(all_arrived, timeout=90, what="the dead worker's deliveries to arrive")

        async def settled() -> bool:
            async with spark.db.read() as session:
                return (await session.exec(select(Delivery.id))).all() == []

        await eventually(settled, what="every delivery to be settled")
        assert hanging.ids() == dict.fromkeys(ids[hanging.host], 1)
        assert live.ids() == dict.fromkeys(ids[live.host], 1), "a delivery acknowledged with 202 went again"
    finally:
        for process in (doomed, survivor):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()
        await live.close()
        await hanging.close()
