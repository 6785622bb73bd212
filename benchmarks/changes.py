"""How long a domain suspension written by another process takes to be in force in `serve`.

    python -m benchmarks.changes [--n 20]

A real `spark-fed serve` on SQLite; this process, standing for any other one (a command, a
worker, a second server), writes N domain blocks, one at a time, each in a transaction that
publishes it on the change channel, exactly as `outbox.moderation.block_domain` does. From the
commit, the clock runs until the server refuses with 403 a POST to its inbox whose signature
names a key on the newly suspended domain (before it, the same POST gets 401: its signature is
refused before any key is fetched). The server hears the change at its next poll of the marker
table, every 0.2 s, so the figures should sit between the round trip and that interval; the
ceiling is the one second within which a suspension must be in force everywhere.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from spark_fed.changes import Kind, publish
from spark_fed.db import Database
from spark_fed.models import DomainBlock

from ._spark import SparkServer, default_executable, free_port, run_benchmark
from .inbox import percentile

CEILING_SECONDS = 1.0
PROBE_EVERY = 0.005


async def _status(http: aiohttp.ClientSession, inbox: str, domain: str) -> int:
    key = f"http://{domain}/users/x#main-key"
    headers = {
        "Content-Type": "application/activity+json",
        "Signature": f'keyId="{key}",headers="(request-target) host date",signature="AAAA"',
    }
    body = b'{"type": "Create", "actor": "http://%s/users/x"}' % domain.encode()
    async with http.post(inbox, data=body, headers=headers) as response:
        return response.status


async def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    spark = SparkServer(workdir, executable=args.spark_fed)
    spark.command("users", "create", "bob")
    spark.start()
    db = Database(f"sqlite+aiosqlite:///{spark.db_path}")
    inbox = f"{spark.base_url}/inbox"
    latencies: list[float] = []
    failures: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(args.n):
                # A closed loopback port: nothing could be contacted even if something tried.
                domain = f"127.0.0.1:{free_port()}"
                if await _status(http, inbox, domain) == 403:
                    failures.append(f"{domain} was refused before it was blocked")
                    continue
                async with db.write() as session:
                    session.add(DomainBlock(domain=domain, severity="suspend"))
                    await publish(session, Kind.DOMAIN_BLOCKS, [domain])
                committed = time.monotonic()
                while await _status(http, inbox, domain) != 403:
                    if time.monotonic() - committed > 5 * CEILING_SECONDS:
                        failures.append(f"{domain} was not refused within {5 * CEILING_SECONDS:g} s")
                        break
                    await asyncio.sleep(PROBE_EVERY)
                else:
                    latencies.append(time.monotonic() - committed)
    finally:
        await db.dispose()
        spark.stop()
    if latencies:
        p50, p95, worst = (percentile(latencies, f) * 1000 for f in (0.5, 0.95, 1.0))
        print(f"in force after  p50 {p50:.0f} ms   p95 {p95:.0f} ms   max {worst:.0f} ms   (ceiling 1000 ms)")
        if worst / 1000 > CEILING_SECONDS:
            failures.append(f"a suspension took {worst:.0f} ms to be in force")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.changes", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="suspensions, one after another (default 20)")
    parser.add_argument("--spark-fed", type=Path, default=default_executable())
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return run_benchmark("changes", args.keep, lambda w: asyncio.run(run(args, w)))


if __name__ == "__main__":
    sys.exit(main())
