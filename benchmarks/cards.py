"""Link cards: what a link costs the poster, and the card fetcher's throughput and per-host bound.

    python -m benchmarks.cards [--posts 200] [--cards 400] [--hosts 4] [--delay 0.02]

What it does, and why each part is there:

* `spark-fed serve` (SQLite in a temp dir, `allow_private_addresses` so it may fetch from
  loopback), `spark-fed users create alice` and a bearer token from `spark-fed tokens create`.
* A fake site in this process, on HOSTS loopback ports (each port a host to Spark): every page
  answers after DELAY seconds with an OpenGraph head, as a real site takes a moment. Each host
  counts the requests it has in flight and keeps the most it saw: the bound Spark keeps per host,
  measured where it matters, at the site.
* Posting: POSTS statuses without a link and POSTS with a link to a distinct page, interleaved
  (so both see the same server, its card worker busy with the earlier links), one at a time over
  one keep-alive connection, each timed to the last byte of the answer. Printed: p50 and p95 of
  both. Check: with a link p50 is at most 1.25 x the p50 without, plus 2 ms (the link costs the
  poster one small queue row in the post's own transaction; the fetch happens after).
* Throughput: CARDS posts linking distinct pages spread over the hosts, posted 8 at a time, then
  the time until every card is stored (`status_cards` counted with sqlite3 while Spark runs).
  Printed: cards per second beside the ceiling the limits allow, min(in all, per host x hosts)
  / DELAY, and the most fetches each host and all hosts had at once. Checks: no host ever saw
  more than the per-host bound (2), never more than 8 in all, and every card arrived.
* Spark gets SIGTERM and must exit 0, with no traceback in its log.

Every loop is bounded by a count and a time budget; traffic goes only to 127.0.0.1.
"""

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from ._spark import SparkServer, run_benchmark
from .inbox import percentile

PER_HOST = 2  # spark_fed.cards.fetcher's bounds, restated: the benchmark checks them from outside
IN_ALL = 8
CARDS_TIMEOUT = 300.0
SLOWER_BY = 1.25
SLACK_MS = 2.0


class Site:
    """HOSTS loopback ports serving OpenGraph pages after DELAY; counts what is in flight."""

    def __init__(self, hosts: int, delay: float) -> None:
        self.count = hosts
        self.delay = delay
        self.bases: list[str] = []
        self.in_flight: dict[int, int] = {}
        self.most: dict[int, int] = {}
        self.all_in_flight = 0
        self.most_in_all = 0
        self.requests = 0
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        for index in range(self.count):
            app = web.Application()
            app.router.add_get("/{name:.*}", lambda request, index=index: self._page(request, index))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            self.bases.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
            self.in_flight[index] = self.most[index] = 0

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _page(self, request: web.Request, index: int) -> web.Response:
        self.requests += 1
        self.in_flight[index] += 1
        self.all_in_flight += 1
        self.most[index] = max(self.most[index], self.in_flight[index])
        self.most_in_all = max(self.most_in_all, self.all_in_flight)
        try:
            await asyncio.sleep(self.delay)
            name = request.match_info["name"]
            head = (
                f'<title>{name}</title><meta property="og:title" content="Page {name}">'
                '<meta property="og:description" content="A page for the card benchmark.">'
                '<meta property="og:site_name" content="Bench Site">'
            )
            return web.Response(
                text=f"<html><head>{head}</head><body></body></html>", content_type="text/html"
            )
        finally:
            self.in_flight[index] -= 1
            self.all_in_flight -= 1


def _cards_stored(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute("SELECT count(*) FROM status_cards").fetchone()[0])


async def _post(http: aiohttp.ClientSession, base: str, text: str) -> float:
    started = time.perf_counter()
    async with http.post(f"{base}/api/v1/statuses", json={"status": text}) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /api/v1/statuses answered {response.status}")
    return (time.perf_counter() - started) * 1000


async def _measure(args: argparse.Namespace, spark: SparkServer, token: str) -> list[str]:
    failures: list[str] = []
    site = Site(args.hosts, args.delay)
    await site.start()
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=IN_ALL)
    try:
        async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
            for n in range(10):  # warm-up: connections, caches, the first statements
                await _post(http, spark.base_url, f"warm-up {n}")
            plain: list[float] = []
            linked: list[float] = []
            for n in range(args.posts):
                plain.append(await _post(http, spark.base_url, f"A post without a link, number {n}."))
                page = f"{site.bases[n % args.hosts]}/latency-{n}"
                linked.append(await _post(http, spark.base_url, f"A post with a link, number {n}: {page}"))
            p50_plain, p50_link = percentile(plain, 0.5), percentile(linked, 0.5)
            for label, values in (("without a link:", plain), ("with a link:   ", linked)):
                p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
                print(f"posting        {label} p50 {p50:.1f} ms  p95 {p95:.1f} ms  ({len(values)})")
            if p50_link > p50_plain * SLOWER_BY + SLACK_MS:
                failures.append(
                    f"a link made posting slower: p50 {p50_link:.1f} ms against {p50_plain:.1f} ms"
                )

            deadline = time.monotonic() + CARDS_TIMEOUT
            while _cards_stored(spark.db_path) < args.posts and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            before = _cards_stored(spark.db_path)
            site.most = dict.fromkeys(site.most, 0)
            site.most_in_all = 0
            started = time.monotonic()
            queue = list(range(args.cards))

            async def poster() -> None:
                while queue:
                    n = queue.pop()
                    await _post(
                        http, spark.base_url, f"Throughput {n}: {site.bases[n % args.hosts]}/bulk-{n}"
                    )

            await asyncio.gather(*(poster() for _ in range(IN_ALL)))
            posted = time.monotonic() - started
            at_last_post = _cards_stored(spark.db_path)
            wanted = before + args.cards
            while (stored := _cards_stored(spark.db_path)) < wanted and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - started
    finally:
        await site.close()
    fetched = stored - before
    drained = stored - at_last_post
    ceiling = min(IN_ALL, PER_HOST * args.hosts) / args.delay
    bound = (
        f"min({IN_ALL} in all, {PER_HOST} per host x {args.hosts} hosts) / {args.delay * 1000:g} ms a page"
    )
    most_per_host = max(site.most.values())
    rate = fetched / elapsed
    print(f"throughput     {rate:.1f} cards/s  ({fetched} cards in {elapsed:.2f} s from the first post)")
    print(f"               {drained} cards stored in the {elapsed - posted:.2f} s after the last post")
    print(f"ceiling        {ceiling:.1f} cards/s  ({bound})")
    in_all = site.most_in_all
    print(
        f"in flight      most per host {most_per_host} (bound {PER_HOST}), in all {in_all} (bound {IN_ALL})"
    )
    if stored < wanted:
        failures.append(f"only {fetched} of {args.cards} cards arrived within {CARDS_TIMEOUT:g} s")
    if most_per_host > PER_HOST:
        failures.append(f"a host had {most_per_host} fetches at once, more than {PER_HOST}")
    if site.most_in_all > IN_ALL:
        failures.append(f"{site.most_in_all} fetches at once in all, more than {IN_ALL}")
    return failures


def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    spark = SparkServer(workdir, allow_private_addresses=True)
    spark.command("users", "create", "alice")
    token = spark.command("tokens", "create", "alice").strip().splitlines()[-1]
    spark.start()
    try:
        failures = asyncio.run(_measure(args, spark, token))
    finally:
        code = spark.stop()
    if code != 0:
        failures.append(f"serve exited {code} on SIGTERM")
    if "Traceback" in spark.log_text():
        failures.append("a traceback in the server's log:\n" + spark.log_tail(40))
    return failures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cards", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200, help="posts of each kind for the latency (200)")
    parser.add_argument("--cards", type=int, default=400, help="posts with distinct links for throughput")
    parser.add_argument("--hosts", type=int, default=4, help="the site's hosts (loopback ports)")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each page takes (0.02)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("cards", args.keep, lambda w: run(args, w))


if __name__ == "__main__":
    sys.exit(main())
