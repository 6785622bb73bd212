"""The delivery claim's cost with a large queue: one claim's time with 100,000 deliveries queued.

    python -m benchmarks.claim [--queued 100000] [--hosts 2000] [--dead-hosts 1000] [--postgres URL]

The worker claims up to 64 deliveries at a time (`queue.worker.CLAIM_MAX`), ranking the due
deliveries within their host (`queue.hosts.claim_deliveries`). A backlog after an outage, or a
large account's fan-out, can leave 100,000 rows queued; each claim must stay cheap then, because
the worker claims again as soon as slots free up. The queue is written straight into a fresh
database (migrated by Spark's own migrations): QUEUED deliveries spread over HOSTS hosts, of which
DEAD-HOSTS are in trouble (a `delivery_hosts` row, as after failures), the rest of them due. Then
the claim runs ROUNDS times, each taking 64 and leasing them, and the median and the worst are
printed beside the ceiling (`--ceiling`, 50 ms: a claim a tenth of a 64-delivery wave's signing).
Every row goes to a loopback host that is never contacted: nothing here sends anything.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from .fanout import postgres_database

CEILING_MS = 50.0
CLAIM = 64


async def run(args: argparse.Namespace, url: str) -> bool:
    from spark_fed.db import Database
    from spark_fed.migrations import upgrade
    from spark_fed.models import Account, Delivery, DeliveryHost
    from spark_fed.models.types import utcnow
    from spark_fed.queue.hosts import lease_planned, plan_claim

    db = Database(url)
    try:
        await upgrade(db)
        async with db.write() as session:
            sender = Account(
                uri="http://127.0.0.1:9/users/alice",
                username="alice",
                actor_type="Person",
                url="http://127.0.0.1:9/@alice",
                inbox_url="http://127.0.0.1:9/users/alice/inbox",
                public_key_id="http://127.0.0.1:9/users/alice#main-key",
                public_key_pem="",
            )
            session.add(sender)
            await session.flush()
            sender_id = sender.id
        began = time.perf_counter()
        now = utcnow()
        rows = [
            {
                "sender_id": sender_id,
                "inbox_url": f"http://h{i % args.hosts}.invalid/inbox",
                "host": f"h{i % args.hosts}.invalid",
                "activity_id": f"http://127.0.0.1:9/activities/{i}",
                "body": "{}",
                "next_attempt_at": now - timedelta(seconds=1),
                "created_at": now,
            }
            for i in range(args.queued)
        ]
        for start in range(0, len(rows), 2000):
            async with db.write() as session:
                await session.exec(insert(Delivery).values(rows[start : start + 2000]))
        async with db.write() as session:
            for i in range(args.dead_hosts):
                session.add(DeliveryHost(host=f"h{i}.invalid", failures=1, last_error="timed out"))
        print(
            f"queued         {args.queued:,} deliveries over {args.hosts:,} hosts "
            f"({args.dead_hosts:,} of them failing) in {time.perf_counter() - began:.1f} s"
        )
        took: list[float] = []
        planning: list[float] = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            plan = await plan_claim(db, CLAIM, per_host=16, failing_slots=args.failing_slots)
            planned = time.perf_counter()
            claimed = await lease_planned(db, plan, timedelta(seconds=30))
            took.append((time.perf_counter() - started) * 1000)
            planning.append((planned - started) * 1000)
            if len(claimed) != CLAIM:
                print(f"FAIL: a claim took {len(claimed)} deliveries, not {CLAIM}")
                return False
        median, worst = statistics.median(took), max(took)
        verdict = "PASS" if median <= args.ceiling else "FAIL"
        print(
            f"claim          {CLAIM} of {args.queued:,}: median {median:.1f} ms, worst {worst:.1f} ms "
            f"over {args.rounds} claims (ceiling {args.ceiling:g} ms) {verdict}"
        )
        print(
            f"               of which reading the queue per host: median {statistics.median(planning):.1f} ms"
        )
        return median <= args.ceiling
    finally:
        await db.dispose()


async def main_async(args: argparse.Namespace) -> bool:
    if args.postgres:
        async with postgres_database(args.postgres) as url:
            print(f"database       PostgreSQL ({url.rpartition('/')[2]})")
            return await run(args, url)
    with tempfile.TemporaryDirectory(prefix="spark-claim-") as workdir:
        print("database       SQLite")
        return await run(args, f"sqlite+aiosqlite:///{Path(workdir) / 'claim.db'}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=100_000, help="deliveries queued (default 100000)")
    parser.add_argument("--hosts", type=int, default=2000, help="hosts they go to (default 2000)")
    parser.add_argument("--dead-hosts", type=int, default=1000, help="of those, failing (default 1000)")
    parser.add_argument("--failing-slots", type=int, default=64, help="the claim's failing_slots (64)")
    parser.add_argument("--rounds", type=int, default=20, help="claims timed (default 20)")
    parser.add_argument("--ceiling", type=float, default=CEILING_MS, help="median claim ms to pass (50)")
    parser.add_argument("--postgres", metavar="URL", help="run on a fresh PostgreSQL database beside URL")
    args = parser.parse_args(argv)
    if not 0 <= args.dead_hosts <= args.hosts <= args.queued or args.rounds < 1:
        parser.error("need 0 <= --dead-hosts <= --hosts <= --queued and --rounds >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return 0 if asyncio.run(main_async(parse_args(argv))) else 1


if __name__ == "__main__":
    sys.exit(main())
