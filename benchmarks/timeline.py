"""Timeline reads: p50/p95 latency of one page of every kind with 100,000 notes stored, on SQLite.

    python -m benchmarks.timeline [--notes 100000] [--reads 500] [--limit 20] [--kinds home,tag]

What it does, and why each part is there:

* `spark-fed users create` makes the database (migrations) and two local users; then the notes
  are written straight into the SQLite file with `sqlite3` (100,000 posts through `spark-fed post`
  would take hours and measure the write path). They are what Spark itself would have stored:
  snowflake ids increasing with `published` over 100 days, remote authors on a few servers, a
  share of boosts, and home-feed rows (`feed_entries`) for whoever follows the author. The
  reader follows most authors but not all, and a second local user follows others, so the
  reader's feed is a part of `statuses` and `feed_entries` holds other feeds too.
* The reads run in this process through Spark's own `queries.timelines.timeline` on Spark's
  `Database` (aiosqlite, the pool, SQLAlchemy's ORM), each in a fresh read session as a command
  or a route opens one: N reads of the first page, and N reads of a page deep in the feed (a
  `max_id` cursor picked at random from the reader's feed, as the next page after scrolling).
  Every page is checked against the feed rows read with `sqlite3`.
* The ceiling, in the same run: the statements Spark sent for each of those reads, captured
  from the engine, run again with the stdlib `sqlite3` on one connection; and the same
  statements through `aiosqlite` alone (the thread hop Spark pays per statement, without
  SQLAlchemy). The three figures side by side say where the time goes; `EXPLAIN QUERY PLAN`
  says what SQLite does for the page query.
* Then the same cursors as `GET /api/v1/timelines/home` on a running `spark-fed serve` (a bearer
  token from `spark-fed tokens create`), one request at a time: what a client app waits for.
* Every kind (home, local, federated, tag, account, mentions) through its query function, each
  beside the same page by a trivial indexed query and with its query plan (`timeline_kinds.py`).
* `spark-fed timeline NAME --json` runs once at the end as a sanity check of the command's path.

Only 127.0.0.1 is contacted. Every loop is bounded by --reads and every series by --budget seconds.
"""

import argparse
import asyncio
import contextlib
import cProfile
import importlib
import json
import pstats
import random
import re
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._spark import SparkError, SparkServer, default_executable, run_benchmark, sqlite_time
from .inbox import PySpy, percentile
from .timeline_kinds import api_kinds, api_report, measure_kinds, report

TARGET_P95_MS = 20.0
"""The issue's target on this project's 2-core machine: a home-timeline page, p95, on SQLite."""

READER = "alice"
OTHER_READER = "bob"
SPAN = timedelta(days=100)
BOOST_SHARE = 0.05
VISIBILITIES = ("public",) * 17 + ("unlisted",) * 2 + ("followers",)
SEED = 20240601
TAG = "spark"
TAG_SHARE = 0.05
"""Notes filed under TAG (the tag timeline's)."""
KINDS = ("home", "local", "federated", "tag", "account", "mentions")
MENTION_SHARE = 0.02
"""Remote notes that mention the reader (her mentions timeline and notifications)."""


# --- seeding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    reader_id: int
    notes: int
    statuses: int
    feed_rows: int
    reader_feed: list[int]
    """The reader's feed, newest first: the ground truth every page is checked against."""
    profile_id: int = 0
    """A remote author the reader follows, whose profile (account timeline) is read."""
    truths: dict[str, list[int]] = field(default_factory=dict)
    """Every other timeline as the reader sees it, newest first, by kind: local, federated,
    tag, account, mentions."""


def seed_notes(db_path: Path, notes: int, authors: int, followed: int, servers: int) -> Seeded:
    """NOTES statuses by AUTHORS remote accounts (and the reader), with the home-feed rows.

    The reader follows the first FOLLOWED authors; the other local user follows the rest and
    every other one the reader follows, so feeds overlap the way they do on a small instance.
    """
    rng = random.Random(SEED)
    extra = random.Random(SEED + 2)  # tags and mentions: the notes stay those of earlier runs
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    now = datetime.now(UTC)
    stamp = sqlite_time(now)
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn, conn:
        local = dict(conn.execute("SELECT username, id FROM accounts WHERE domain IS NULL").fetchall())
        reader_id, other_id = local[READER], local[OTHER_READER]
        rows = []
        for k in range(authors):
            host = f"peer{k % servers}.example"
            uri = f"https://{host}/users/author{k}"
            inbox, shared = f"{uri}/inbox", f"https://{host}/inbox"
            rows.append((uri, f"author{k}", host, f"Author {k}", uri, inbox, shared, f"{uri}#main-key", pem))
        conn.executemany(
            "INSERT INTO accounts (uri, username, domain, actor_type, display_name, summary, locked,"
            " discoverable, url, inbox_url, shared_inbox_url, public_key_id, public_key_pem, created_at,"
            " fetched_at) VALUES (?, ?, ?, 'Person', ?, '', 0, 1, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, stamp, stamp) for row in rows],
        )
        author_ids = [
            i for (i,) in conn.execute("SELECT id FROM accounts WHERE username LIKE 'author%' ORDER BY id")
        ]
        reader_follows = set(author_ids[:followed])
        other_follows = set(author_ids[followed:]) | set(author_ids[:followed:2])
        follows = [(reader_id, a) for a in reader_follows] + [(other_id, a) for a in other_follows]
        conn.executemany(
            "INSERT INTO follows (follower_id, followee_id, uri, state, created_at, updated_at)"
            " VALUES (?, ?, 'https://spark.invalid/follows/' || ? || '-' || ?, 'accepted', ?, ?)",
            [(f, a, f, a, stamp, stamp) for f, a in follows],
        )
        author_uris = dict(conn.execute("SELECT id, uri FROM accounts").fetchall())

        statuses, feed, tagged, mentioned = [], [], [], []
        truths: dict[str, list[int]] = {
            kind: [] for kind in ("local", "federated", "tag", "account", "mentions")
        }
        profile_id = author_ids[0]
        originals: list[int] = []
        start_ms = int((now - SPAN).timestamp() * 1000)
        step_ms = max(1, int(SPAN.total_seconds() * 1000) // notes)
        for i in range(notes):
            millis = start_ms + i * step_ms
            status_id = (millis << 16) | rng.getrandbits(16)
            published = sqlite_time(datetime.fromtimestamp(millis / 1000, UTC))
            mine = rng.random() < 0.02
            author = reader_id if mine else rng.choice(author_ids)
            uri = f"{author_uris[author]}/statuses/{status_id}"
            boost_of = (
                rng.choice(originals) if originals and not mine and rng.random() < BOOST_SHARE else None
            )
            if boost_of is None:
                content = (
                    f"<p>Note {i} from the benchmark, a post of the usual length with a "
                    f'<a href="https://example.com/{i}">link</a> and a '
                    '<a href="https://peer0.example/tags/spark" class="mention hashtag">'
                    "#<span>spark</span></a> tag.</p>"
                )
                visibility = rng.choice(VISIBILITIES)
                originals.append(status_id)
            else:
                content, visibility, uri = "", "public", f"{uri}/activity"
            text = "Hi" if mine else None
            url = None if boost_of else uri
            statuses.append(
                (status_id, uri, url, author, mine, visibility, content, text, boost_of, published)
            )
            if boost_of is None and visibility == "public":
                truths["federated"].append(status_id)
                if mine:
                    truths["local"].append(status_id)
            if boost_of is None and extra.random() < TAG_SHARE:
                tagged.append(status_id)
                if visibility == "public":
                    truths["tag"].append(status_id)
            if boost_of is None and not mine and extra.random() < MENTION_SHARE:
                mentioned.append(status_id)
                truths["mentions"].append(status_id)
            if author == profile_id:
                truths["account"].append(status_id)
            if author == reader_id or author in reader_follows:
                feed.append((reader_id, status_id))
            if author in other_follows:
                feed.append((other_id, status_id))
        conn.executemany(
            "INSERT INTO statuses (id, uri, url, account_id, local, visibility, content, text, summary,"
            " sensitive, reblog_of_id, published, replies_count, reblogs_count, favourites_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, 0, 0, 0)",
            statuses,
        )
        conn.executemany("INSERT INTO feed_entries (account_id, status_id) VALUES (?, ?)", feed)
        tag_id = conn.execute("INSERT INTO tags (name) VALUES (?) RETURNING id", (TAG,)).fetchone()[0]
        conn.executemany(
            "INSERT INTO status_tags (status_id, tag_id) VALUES (?, ?)", [(i, tag_id) for i in tagged]
        )
        conn.executemany(
            "INSERT INTO mentions (status_id, account_id) VALUES (?, ?)", [(i, reader_id) for i in mentioned]
        )
        # The rows went in behind Spark's back: count them as the migration that added the
        # counters does, so accounts show real statuses_count / last_status_at.
        conn.execute(
            importlib.import_module("spark_fed.migrations.versions.0010_account_status_counts").BACKFILL
        )
        conn.execute(importlib.import_module("spark_fed.models.ids").COUNT_STORED_IDS)  # ids go on above
    reader_feed = sorted((s for a, s in feed if a == reader_id), reverse=True)
    truths = {kind: ids[::-1] for kind, ids in truths.items()}
    return Seeded(reader_id, notes, len(statuses), len(feed), reader_feed, profile_id, truths)


# --- reading through Spark ----------------------------------------------------------------------


@dataclass
class Reads:
    """One series of reads: the cursors, and per read done its latency, page and the SQL sent."""

    cursors: list[int | None]
    seconds: list[float] = field(default_factory=list)
    pages: list[list[int]] = field(default_factory=list)
    statements: list[list[tuple[str, tuple[Any, ...]]]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.seconds)


async def spark_reads(
    db_path: Path, reader_id: int, series: dict[str, Reads], limit: int, budget: float
) -> float:
    """Every series through `timeline()`, each until its cursors or BUDGET seconds run out.

    Returns the first (cold) read's seconds. The statements each read sends are captured by an
    engine listener in the same pass (a list append per statement: microseconds on a read).
    """
    from sqlalchemy import event

    from spark_fed.db import Database
    from spark_fed.models import Account
    from spark_fed.queries.timelines import TimelineKind, timeline

    db = Database(f"sqlite+aiosqlite:///{db_path}")
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, tuple(parameters)))

    try:
        async with db.read() as session:
            reader = await session.get(Account, reader_id)
        assert reader is not None

        async def read(max_id: int | None) -> list[int]:
            async with db.read() as session:
                items = await timeline(session, reader, TimelineKind.HOME, limit=limit, max_id=max_id)
            return [item.status.id for item in items]

        started = time.perf_counter()
        await read(None)
        cold = time.perf_counter() - started
        for _ in range(5):  # warm: the pool's connections open, SQLAlchemy's statement cache filled
            await read(None)

        event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
        for reads in series.values():
            deadline = time.perf_counter() + budget
            for cursor in reads.cursors:
                captured.clear()
                started = time.perf_counter()
                page = await read(cursor)
                reads.seconds.append(time.perf_counter() - started)
                reads.pages.append(page)
                reads.statements.append(list(captured))
                if time.perf_counter() > deadline:
                    break
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    finally:
        await db.dispose()
    return cold


async def profile_reads(db_path: Path, reader_id: int, cursors: Sequence[int | None], limit: int) -> str:
    """cProfile of the reads (the event loop's thread only), the top functions by own time."""
    from spark_fed.db import Database
    from spark_fed.models import Account
    from spark_fed.queries.timelines import TimelineKind, timeline

    db = Database(f"sqlite+aiosqlite:///{db_path}")
    profiler = cProfile.Profile()
    try:
        async with db.read() as session:
            reader = await session.get(Account, reader_id)
        async with db.read() as session:
            await timeline(session, reader, TimelineKind.HOME, limit=limit, max_id=cursors[0])
        profiler.enable()
        for cursor in cursors:
            async with db.read() as session:
                await timeline(session, reader, TimelineKind.HOME, limit=limit, max_id=cursor)
        profiler.disable()
    finally:
        await db.dispose()
    return _by_package(pstats.Stats(profiler), len(cursors))


def _by_package(stats: pstats.Stats, reads: int) -> str:
    """The profile's own time grouped by where the code lives: which library the time goes to."""
    groups: dict[str, float] = {}
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if "epoll" in function:
            group = "waiting for the aiosqlite thread (epoll)"
        elif "site-packages/" in filename:
            group = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/work/" in filename or "spark_fed" in filename:
            group = "spark_fed" if "spark_fed" in filename else "benchmark"
        elif filename == "~":
            group = "builtins (C)"
        else:
            group = "stdlib: " + Path(filename).parent.name if "asyncio" in filename else "stdlib"
        groups[group] = groups.get(group, 0.0) + own
    total = sum(groups.values())
    lines = [f"{total / reads * 1000:.2f} ms per read under the profiler"]
    for group, own in sorted(groups.items(), key=lambda item: -item[1])[:8]:
        lines.append(f"{own / reads * 1000:6.2f} ms  {own / total:4.0%}  {group}")
    return "\n".join(lines)


async def http_reads(
    spark: SparkServer, token: str, series: dict[str, Reads], limit: int, budget: float
) -> tuple[dict[str, Reads], float]:
    """The same cursors as `GET /api/v1/timelines/home` on a running `spark-fed serve`, one
    keep-alive connection, one request at a time; also the server CPU per request."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    url = f"{spark.base_url}/api/v1/timelines/home"
    results = {name: Reads(reads.cursors) for name, reads in series.items()}
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:

        async def read(cursor: int | None) -> list[int]:
            query = {"limit": str(limit)} | ({"max_id": str(cursor)} if cursor else {})
            async with session.get(url, params=query) as response:
                body = await response.read()
                if response.status != 200:
                    raise SparkError(f"GET {url} answered {response.status}: {body[:200]!r}")
            return [int(entity["id"]) for entity in json.loads(body)]

        for _ in range(5):
            await read(None)
        cpu_0, done = spark.cpu_seconds(), 0
        for reads in results.values():
            deadline = time.perf_counter() + budget
            for cursor in reads.cursors:
                started = time.perf_counter()
                page = await read(cursor)
                reads.seconds.append(time.perf_counter() - started)
                reads.pages.append(page)
                done += 1
                if time.perf_counter() > deadline:
                    break
        cpu = (spark.cpu_seconds() - cpu_0) / max(1, done)
    return results, cpu


# --- the ceilings -------------------------------------------------------------------------------

INDEX_ORDERED_PAGE = (
    "SELECT statuses.* FROM feed_entries JOIN statuses ON statuses.id = feed_entries.status_id"
    " WHERE feed_entries.account_id = ? AND feed_entries.status_id < ?"
    " ORDER BY feed_entries.status_id DESC LIMIT ?"
)
"""The same page, ordered by the feed's own primary key: SQLite walks it backwards and stops."""
NO_CURSOR = 2**63 - 1


def is_page_query(sql: str) -> bool:
    """The statement of a read that selects the page (the others fetch authors and boosted notes)."""
    return "feed_entries" in sql


def raw_reads(db_path: Path, reads: Reads, budget: float) -> list[float]:
    """Each read's statements again with the stdlib `sqlite3` on one open connection."""
    seconds = []
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        for sql, params in reads.statements[0]:
            conn.execute(sql, params).fetchall()
        deadline = time.perf_counter() + budget
        for statements in reads.statements:
            started = time.perf_counter()
            for sql, params in statements:
                conn.execute(sql, params).fetchall()
            seconds.append(time.perf_counter() - started)
            if time.perf_counter() > deadline:
                break
    return seconds


def best_page_reads(db_path: Path, reads: Reads, reader_id: int, limit: int) -> tuple[list[float], int]:
    """The machine's ceiling for the same page: `INDEX_ORDERED_PAGE`, then Spark's other statements.

    Returns the latencies and how many pages differed from Spark's (there must be none).
    """
    seconds, differ = [], 0
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        conn.execute(INDEX_ORDERED_PAGE, (reader_id, NO_CURSOR, limit)).fetchall()
        for cursor, page, statements in zip(reads.cursors, reads.pages, reads.statements, strict=False):
            started = time.perf_counter()
            rows = conn.execute(INDEX_ORDERED_PAGE, (reader_id, cursor or NO_CURSOR, limit)).fetchall()
            for sql, params in statements:
                if not is_page_query(sql):
                    conn.execute(sql, params).fetchall()
            seconds.append(time.perf_counter() - started)
            differ += [row[0] for row in rows] != page
    return seconds, differ


async def aiosqlite_reads(db_path: Path, reads: Reads, budget: float) -> list[float]:
    """The same statements through `aiosqlite` alone: one thread hop per statement, no SQLAlchemy."""
    import aiosqlite

    seconds = []
    async with aiosqlite.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        for sql, params in reads.statements[0]:
            async with conn.execute(sql, params) as cursor:
                await cursor.fetchall()
        deadline = time.perf_counter() + budget
        for statements in reads.statements:
            started = time.perf_counter()
            for sql, params in statements:
                async with conn.execute(sql, params) as cursor:
                    await cursor.fetchall()
            seconds.append(time.perf_counter() - started)
            if time.perf_counter() > deadline:
                break
    return seconds


def query_plan(db_path: Path, sql: str, params: Sequence[Any]) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return "; ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


# --- the run ------------------------------------------------------------------------------------


def cli_sanity(spark: SparkServer, limit: int, expected: list[int]) -> tuple[float, str | None]:
    """`spark-fed timeline READER --json` once: its wall time, and what is wrong with its answer."""
    started = time.perf_counter()
    try:
        output = spark.command("timeline", READER, "--limit", str(limit), "--json")
    except SparkError as exc:
        return time.perf_counter() - started, str(exc)
    took = time.perf_counter() - started
    # A boost's row carries the boosted note; its own id is `boost_id` (the seeded `…/ID/activity`).
    ids = [
        int(row["boost_id"].removesuffix("/activity").rsplit("/", 1)[-1])
        if row.get("boosted_by")
        else int(row["id"].rsplit("/", 1)[-1])
        for row in json.loads(output)
    ]
    if ids != expected:
        return took, f"ids {ids[:3]}…, expected {expected[:3]}…"
    return took, None


def check_pages(reads: Reads, feed: list[int], limit: int) -> list[str]:
    """Each page must be the next LIMIT ids of the reader's feed below its cursor, newest first."""
    problems = []
    position = {status_id: i for i, status_id in enumerate(feed)}
    for cursor, page in zip(reads.cursors, reads.pages, strict=False):
        start = 0 if cursor is None else position[cursor] + 1
        expected = feed[start : start + limit]
        if page != expected:
            problems.append(f"max_id={cursor}: got {page[:3]}…, expected {expected[:3]}…")
    return problems


def summary(seconds: Sequence[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"p50 {percentile(ms, 0.5):7.2f} ms  p95 {percentile(ms, 0.95):7.2f} ms  "
        f"max {max(ms, default=0):7.2f} ms  n={len(ms)}"
    )


async def run(args: argparse.Namespace, workdir: Path) -> list[str]:
    spark = SparkServer(workdir, executable=args.spark_fed)
    spark.command("users", "create", READER)
    spark.command("users", "create", OTHER_READER)
    began = time.perf_counter()
    seeded = seed_notes(spark.db_path, args.notes, args.authors, args.followed, args.servers)
    print(
        f"seeded         {seeded.statuses:,} notes ({BOOST_SHARE:.0%} boosts) by {args.authors} remote "
        f"authors on {args.servers} servers and {READER}, in {time.perf_counter() - began:.1f} s"
    )
    print(
        f"               {READER} follows {args.followed}: {len(seeded.reader_feed):,} notes in her home "
        f"feed; feed_entries {seeded.feed_rows:,} rows for 2 readers"
    )
    if args.analyze:
        with contextlib.closing(sqlite3.connect(spark.db_path)) as conn:
            conn.execute("ANALYZE")
        print("               ANALYZE run (Spark itself never runs it): the planner has statistics")

    rng = random.Random(SEED + 1)
    deep_pool = seeded.reader_feed[: max(1, len(seeded.reader_feed) - args.limit)]
    series = {
        "first page": Reads([None] * args.reads),
        "deep pages": Reads([rng.choice(deep_pool) for _ in range(args.reads)]),
    }
    cold = await spark_reads(spark.db_path, seeded.reader_id, series, args.limit, args.budget)

    failures = []
    print()
    print(
        f"reads          up to {args.reads} per series ({args.budget:g} s budget each), {args.limit} per "
        "page, each in a fresh read session"
    )
    print(f"cold           the very first read {cold * 1000:.1f} ms (opens the pool's first connection)")
    for name, reads in series.items():
        hop = await aiosqlite_reads(spark.db_path, reads, args.budget)
        raw = raw_reads(spark.db_path, reads, args.budget)
        best, differ = best_page_reads(spark.db_path, reads, seeded.reader_id, args.limit)
        spark_p95 = percentile(reads.seconds, 0.95) * 1000
        print()
        print(f"{name}" + ("" if name == "first page" else " (max_id: a random entry of the feed)"))
        print(f"  Spark        {summary(reads.seconds)}  timeline(); target p95 {args.target:g} ms")
        print(f"  aiosqlite    {summary(hop)}  Spark's statements, no SQLAlchemy")
        print(f"  sqlite3      {summary(raw)}  Spark's statements, raw")
        print(f"  ceiling      {summary(best)}  the same page by the feed's index, raw")
        ratio = percentile(reads.seconds, 0.5) / max(percentile(best, 0.5), 1e-9)
        print(f"  Spark's p50 is {ratio:,.0f}x the ceiling's")
        problems = check_pages(reads, seeded.reader_feed, args.limit)
        print(f"  pages        {reads.done - len(problems)} of {reads.done} match the feed rows")
        for problem in problems[:3]:
            print(f"               e.g. {problem}")
        if problems:
            failures.append(f"{name}: {len(problems)} pages differ from the feed")
        if differ:
            failures.append(f"{name}: the ceiling's query gave {differ} different pages (a benchmark bug)")
        if reads.done < args.reads:
            print(f"  budget       {args.budget:g} s ran out after {reads.done} of {args.reads} reads")
        if args.target and spark_p95 > args.target:
            failures.append(f"{name}: p95 {spark_p95:.2f} ms is over the target of {args.target:g} ms")

    print()
    deep = series["deep pages"]
    sql, params = next(statement for statement in deep.statements[0] if is_page_query(statement[0]))
    print("page query     " + re.sub(r"SELECT (statuses\.\w+, )+", "SELECT …, ", " ".join(sql.split())))
    print(f"query plan     Spark's: {query_plan(spark.db_path, sql, params)}")
    ceiling_params = (seeded.reader_id, deep.cursors[0], args.limit)
    print(f"               the ceiling's: {query_plan(spark.db_path, INDEX_ORDERED_PAGE, ceiling_params)}")

    print()
    print(f"every timeline up to {args.reads} reads per series ({args.budget:g} s budget each), through")
    print("               Spark's query functions, beside the same page by a trivial indexed query")
    everything = {"home": seeded.reader_feed} | seeded.truths
    kinds = {kind: everything[kind] for kind in args.kinds}
    results = await measure_kinds(
        spark.db_path,
        seeded.reader_id,
        seeded.profile_id,
        TAG,
        kinds,
        reads=args.reads,
        limit=args.limit,
        budget=args.budget,
        seed=SEED + 3,
    )
    lines, kind_failures = report(results, args.target)
    print("\n".join("  " + line for line in lines))
    failures += kind_failures

    if args.profile:
        print()
        print("profile        cProfile of 50 deep-page reads through timeline(), own time by library:")
        text = await profile_reads(spark.db_path, seeded.reader_id, deep.cursors[:50], args.limit)
        print("\n".join("               " + line for line in text.splitlines()))

    if args.http:
        output = spark.command("tokens", "create", READER)
        token = output.strip().splitlines()[-1]
        startup = await asyncio.to_thread(spark.start)
        profiler = None
        try:
            if args.py_spy:
                profiler = await asyncio.to_thread(PySpy, spark.pid, Path(args.py_spy).resolve())
            api, cpu = await http_reads(spark, token, series, args.limit, args.budget)
            kind_api, home_bytes = await api_kinds(
                spark,
                token,
                kinds,
                seeded.profile_id,
                TAG,
                reads=args.reads,
                limit=args.limit,
                budget=args.budget,
                seed=SEED + 4,
            )
        finally:
            if profiler is not None:
                await asyncio.to_thread(profiler.stop)
            status = spark.stop()
        from .pages import floor_series  # benchmarks.pages imports this module

        floor = (
            await floor_series(home_bytes, workdir, [None] * args.reads, args.budget) if home_bytes else []
        )
        print()
        print(
            f"HTTP API       GET /api/v1/timelines/home?limit={args.limit} on spark-fed serve "
            f"(up in {startup:.1f} s),"
        )
        print(f"               one keep-alive connection, server CPU {cpu * 1000:.2f} ms per request")
        if profiler is not None:
            print(f"py-spy         profile of the server during these requests in {args.py_spy}")
        for name, reads in api.items():
            print(f"  {name:<12} {summary(reads.seconds)}  (not gated: the target is timeline()'s)")
            problems = check_pages(reads, seeded.reader_feed, args.limit)
            if problems:
                print(f"               e.g. {problems[0]}")
                failures.append(f"HTTP API {name}: {len(problems)} pages differ from the feed")
        print()
        print("every timeline's API route, the same way, beside aiohttp answering the home page's bytes")
        lines, api_failures = api_report(kind_api, floor)
        print("\n".join("  " + line for line in lines))
        failures += api_failures
        if status != 0:
            failures.append(f"serve exited {status} after SIGTERM")

    took, problem = await asyncio.to_thread(cli_sanity, spark, args.limit, seeded.reader_feed[: args.limit])
    print()
    print(
        f"cli            spark-fed timeline {READER} --limit {args.limit} --json: {took:.2f} s "
        f"(process start, migrations check, one page): {'OK' if problem is None else problem}"
    )
    if problem is not None:
        failures.append(f"spark-fed timeline: {problem}")
    return failures


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """The shape of the seeded database (`seed_notes`), shared with benchmarks.pages."""
    parser.add_argument("--notes", type=int, default=100_000, help="stored notes (default 100000)")
    parser.add_argument("--authors", type=int, default=50, help="remote authors (default 50)")
    parser.add_argument("--followed", type=int, default=40, help="authors the reader follows (default 40)")
    parser.add_argument("--servers", type=int, default=5, help="servers the authors live on (default 5)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timeline", description=__doc__.split("\n")[0])
    add_seed_arguments(parser)
    parser.add_argument("--reads", type=int, default=500, help="reads per series (default 500)")
    parser.add_argument("--limit", type=int, default=20, help="statuses per page (default 20)")
    parser.add_argument(
        "--target", type=float, default=TARGET_P95_MS, help="fail above this p95 in ms (0: never)"
    )
    parser.add_argument(
        "--budget", type=float, default=15.0, help="seconds each series of reads may take (default 15)"
    )
    parser.add_argument(
        "--kinds",
        type=lambda text: text.split(","),
        default=list(KINDS),
        help=f"timelines to measure, comma-separated (default {','.join(KINDS)})",
    )
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after seeding (Spark does not)")
    parser.add_argument(
        "--http",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also read through the client API on a running serve (default on)",
    )
    parser.add_argument(
        "--py-spy", metavar="OUT", help="record serve with py-spy during the HTTP API reads (.svg/.json/.txt)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the deep-page reads")
    parser.add_argument(
        "--spark-fed",
        type=Path,
        default=default_executable(),
        help="the spark-fed to run (default: the venv's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database)")
    args = parser.parse_args(argv)
    if args.notes < 100 or args.reads < 1 or args.limit < 1 or args.budget <= 0:
        parser.error("need --notes >= 100, --reads >= 1, --limit >= 1, --budget > 0")
    if not 1 <= args.followed <= args.authors or args.servers < 1:
        parser.error("need 1 <= --followed <= --authors and --servers >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("timeline", args.keep, lambda w: asyncio.run(run(args, w)))


if __name__ == "__main__":
    sys.exit(main())
