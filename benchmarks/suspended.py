"""A flood from a suspended domain: refused per second, and what it cost (outbound requests and
database writes, both must be zero), beside the accepted-per-second figure of `benchmarks.inbox`.

    python -m benchmarks.suspended [--n 10000] [--accepted-n 5000] [--concurrency 50] [--actors 20]

How, reusing `benchmarks.inbox`'s actors, signing and sending helpers:

* Two Mastodon-shaped remote servers on loopback ports of their own, each with ACTORS RSA-2048
  actors. The "suspended" one counts every request it receives, whatever the path: that is every
  outbound request Spark makes because of it (key fetches, WebFinger, anything).
* Before Spark starts: `spark-fed users create bob` and `spark-fed domains block
  127.0.0.1:PORT --severity suspend` for the suspended server's port (the block names the
  host:port, so the other server, on another port, is not covered).
* N signed Create(Note)s from the suspended server's actors, signed before the clock starts
  exactly as the inbox benchmark signs them (draft-cavage, Mastodon's header list, a Digest),
  sent at concurrency C after a warm-up round (pooled connections). Each must be answered 403.
* Database writes are counted from outside with the stdlib `sqlite3`: `PRAGMA data_version` on
  one connection held open across the phase changes whenever another connection commits a
  change, so it counts Spark's commits; and the rows of every table, summed, before and after.
  Spark is left idle a moment after start so that its start-up writes are behind us.
* Then, in the same server, the inbox benchmark's measurement: the other server's actors (keys
  fetched at warm-up), ACCEPTED_N posts, accepted (202) per second.

Every wait has a deadline; traffic goes only to 127.0.0.1.
"""

import argparse
import asyncio
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from ._spark import SparkServer, default_executable, run_benchmark
from .inbox import (
    ACTIVITY_JSON,
    LOCAL_USER,
    REQUEST_TIMEOUT,
    RemoteActor,
    RemoteServer,
    build_posts,
    client_cpu_seconds,
    percentile,
    send_all,
)

IDLE_BEFORE_MEASURING = 2.0


class CountingServer:
    """Remote actors whose server counts every request it gets (any method, any path)."""

    def __init__(self, keys: Sequence[rsa.RSAPrivateKey]) -> None:
        self.keys = list(keys)
        self.actors: list[RemoteActor] = []
        self.requests = 0
        self.paths: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        @web.middleware
        async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
            self.requests += 1
            if len(self.paths) < 5:
                self.paths.append(f"{request.method} {request.path}")
            return await handler(request)

        app = web.Application(middlewares=[count])
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        base = f"http://127.0.0.1:{self.port}"
        self.actors = [
            RemoteActor(name=f"actor{i}", uri=f"{base}/users/actor{i}", private_key=key)
            for i, key in enumerate(self.keys)
        ]
        self._documents = {f"/users/{a.name}": json.dumps(a.document()).encode() for a in self.actors}
        return base

    async def _any(self, request: web.Request) -> web.Response:
        document = self._documents.get(request.path)
        if document is None:
            raise web.HTTPNotFound()
        return web.Response(body=document, content_type=ACTIVITY_JSON, charset="utf-8")

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _rows(conn: sqlite3.Connection) -> int:
    tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return sum(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables)


def _data_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA data_version").fetchone()[0]


def _inbox_items(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM inbox_items").fetchone()[0]


async def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    spark = SparkServer(workdir, executable=args.spark_fed, allow_private_addresses=True)
    began = time.perf_counter()
    suspended = CountingServer(
        [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(args.actors)]
    )
    accepted_keys = [
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(args.actors)
    ]
    allowed = RemoteServer(accepted_keys)
    suspended_base = await suspended.start()
    allowed_base = await allowed.start()
    took = time.perf_counter() - began
    print(f"remote servers {suspended_base} (suspended), {allowed_base}; keys in {took:.1f} s")
    spark.command("users", "create", LOCAL_USER)
    spark.command("domains", "block", f"127.0.0.1:{suspended.port}", "--severity", "suspend")
    print(f"blocked        127.0.0.1:{suspended.port} (suspend), before Spark starts")

    began = time.perf_counter()
    flood_warmup = build_posts(suspended.actors, spark, args.concurrency, "floodwarm")
    flood = build_posts(suspended.actors, spark, args.n, "flood")
    warmup = build_posts(allowed.actors, spark, args.actors + args.concurrency, "warmup")
    posts = build_posts(allowed.actors, spark, args.accepted_n, "bench")
    print(
        f"signed         {len(flood) + len(flood_warmup)} flood + {len(warmup) + len(posts)} accepted-phase "
        f"requests in {time.perf_counter() - began:.1f} s"
    )
    inbox_url = f"{spark.base_url}/users/{LOCAL_USER}/inbox"
    failures: list[str] = []
    try:
        startup = await asyncio.to_thread(spark.start)
        print(f"spark          {spark.base_url} pid {spark.pid}, up in {startup:.1f} s")
        await asyncio.sleep(IDLE_BEFORE_MEASURING)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await send_all(session, inbox_url, flood_warmup, args.concurrency, 60)
            with contextlib.closing(
                sqlite3.connect(f"file:{spark.db_path}?mode=ro", uri=True, timeout=10)
            ) as db:
                version_0, rows_0, items_0 = _data_version(db), _rows(db), _inbox_items(db)
                requests_0 = suspended.requests
                cpu_0, client_0 = spark.cpu_seconds(), client_cpu_seconds()
                refused = await send_all(session, inbox_url, flood, args.concurrency, args.timeout)
                server_cpu = spark.cpu_seconds() - cpu_0
                client_cpu = client_cpu_seconds() - client_0
                await asyncio.sleep(0.5)  # anything the flood queued would be committed by now
                commits = _data_version(db) - version_0
                rows = _rows(db) - rows_0
                items = _inbox_items(db) - items_0
            outbound = suspended.requests - requests_0

            # The inbox benchmark's figure, in the same server: keys fetched at warm-up first.
            await send_all(session, inbox_url, warmup[: args.actors], args.actors, 60)
            await send_all(session, inbox_url, warmup[args.actors :], args.concurrency, 60)
            accepted = await send_all(session, inbox_url, posts, args.concurrency, args.timeout)
    finally:
        await suspended.close()
        await allowed.close()
        exit_status = spark.stop()
    log = spark.log_text()

    refused_count = refused.statuses.get("403", 0)
    seen = ": " + ", ".join(suspended.paths) if suspended.paths else ""
    refused_rate = refused_count / refused.wall if refused.wall else 0.0
    accepted_rate = accepted.accepted / accepted.wall if accepted.wall else 0.0
    print()
    print(f"flood          {args.n} signed POSTs from the suspended domain at concurrency {args.concurrency}")
    print(f"refused/s      {refused_rate:,.0f}   ({refused_count} answered 403 in {refused.wall:.2f} s)")
    print(
        f"latency        p50 {percentile(refused.latencies, 0.50) * 1000:.1f} ms   "
        f"p99 {percentile(refused.latencies, 0.99) * 1000:.1f} ms"
    )
    breakdown = ", ".join(f"{status}: {n}" for status, n in sorted(refused.statuses.items()))
    print(f"answers        {breakdown}")
    per_request = server_cpu / max(1, refused_count) * 1e3
    print(
        f"cpu            server {server_cpu:.2f} s ({server_cpu / max(refused.wall, 1e-9):.0%} of a core), "
        f"{per_request:.3f} ms per refused request; benchmark client {client_cpu:.2f} s "
        f"({client_cpu / max(refused.wall, 1e-9):.0%} of a core)"
    )
    print(
        f"outbound       {outbound} requests to the suspended server during the flood "
        f"({suspended.requests} in the whole run{seen})"
    )
    print(
        f"db writes      {commits} commits (PRAGMA data_version), {rows:+d} rows in all tables, "
        f"{items:+d} inbox_items"
    )
    print(
        f"accepted/s     {accepted_rate:,.0f}   (benchmarks.inbox's figure: {args.accepted_n} posts from an "
        f"unblocked server, same server and concurrency; non-2xx {accepted.failed})"
    )
    print(f"server exit    {exit_status} after SIGTERM; {log.count('Traceback')} tracebacks in its log")

    if refused.timed_out or accepted.timed_out:
        failures.append("a phase did not finish in time")
    if refused_count != args.n:
        failures.append(f"{args.n - refused_count} flood requests were not answered 403")
    if suspended.requests:
        failures.append(f"Spark made {suspended.requests} requests to the suspended server")
    if commits or rows or items:
        failures.append(f"the flood caused {commits} commits and {rows:+d} rows")
    if accepted.failed:
        failures.append(f"{accepted.failed} requests of the accepted phase were not answered 2xx")
    if exit_status != 0:
        failures.append(f"serve exited {exit_status} after SIGTERM")
    if log.count("Traceback"):
        failures.append("the server log has tracebacks")
    return failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.suspended", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=10_000, help="flood requests (default 10000)")
    parser.add_argument("--accepted-n", type=int, default=5000, help="accepted-phase requests (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--actors", type=int, default=20, help="actors per remote server (default 20)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a phase may take")
    parser.add_argument("--spark-fed", type=Path, default=default_executable())
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    args = parser.parse_args(argv)
    if min(args.n, args.accepted_n, args.concurrency, args.actors) < 1:
        parser.error("--n, --accepted-n, --concurrency and --actors must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("suspended", args.keep, lambda w: asyncio.run(run(args, w)))


if __name__ == "__main__":
    sys.exit(main())
