"""Every timeline kind, each beside its ceiling: part of `benchmarks.timeline`.

Home, local, federated, tag, account (a profile) and mentions, each read through Spark's own
query function (`queries.timelines`) on Spark's `Database`, in a fresh read session per page:
the first page and pages deep in the timeline (`max_id` a random entry of it). Every page is
checked against the seeded ground truth. The ceiling of each is the same page by a trivial
indexed query with the stdlib `sqlite3` on one open connection (checked equal to Spark's): what
SQLite alone costs when it walks an index and stops. `EXPLAIN QUERY PLAN` of Spark's page query
shows whether it is a range scan on an index (no `SCAN` of a table, no `TEMP B-TREE` sort).
"""

import contextlib
import json
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .inbox import percentile

NO_CURSOR = 2**63 - 1

CEILINGS = {
    "home": (
        "SELECT statuses.id FROM feed_entries JOIN statuses ON statuses.id = feed_entries.status_id"
        " WHERE feed_entries.account_id = :reader AND feed_entries.status_id < :cursor"
        " ORDER BY feed_entries.status_id DESC LIMIT :limit"
    ),
    "local": (
        "SELECT id FROM statuses WHERE visibility = 'public' AND local = 1 AND reblog_of_id IS NULL"
        " AND id < :cursor ORDER BY id DESC LIMIT :limit"
    ),
    "federated": (
        "SELECT id FROM statuses WHERE visibility = 'public' AND reblog_of_id IS NULL"
        " AND id < :cursor ORDER BY id DESC LIMIT :limit"
    ),
    "tag": (
        "SELECT statuses.id FROM status_tags JOIN statuses ON statuses.id = status_tags.status_id"
        " WHERE status_tags.tag_id = (SELECT id FROM tags WHERE name = :tag)"
        " AND status_tags.status_id < :cursor AND statuses.visibility = 'public'"
        " ORDER BY status_tags.status_id DESC LIMIT :limit"
    ),
    "account": (
        "SELECT id FROM statuses WHERE account_id = :profile AND id < :cursor ORDER BY id DESC LIMIT :limit"
    ),
    "mentions": (
        "SELECT mentions.status_id FROM mentions WHERE mentions.account_id = :reader"
        " AND mentions.status_id < :cursor ORDER BY mentions.status_id DESC LIMIT :limit"
    ),
}
"""The trivial indexed query of each kind: the page's ids, no visibility or safety conditions
(the seeded database has nothing they would take out)."""

PAGE_TABLE = {
    "home": "feed_entries",
    "local": "statuses",
    "federated": "statuses",
    "tag": "status_tags",
    "account": "statuses",
    "mentions": "mentions",
}
"""A table only the page query of each kind names, to tell it from the read's other statements."""


@dataclass
class KindResult:
    kind: str
    series: str
    spark: list[float]
    cpu: float
    """CPU seconds per page of this process (the loop and aiosqlite's thread): what a page costs
    whatever else the machine is doing, where the latency also counts waiting for a core."""
    ceiling: list[float]
    wrong: int
    plan: str


def page_reader(
    kind: str, reader: Any, profile: Any, tag: str
) -> Callable[[Any, int | None, int], Awaitable[list[int]]]:
    """The query a route runs for KIND, as a function of (session, max_id, limit) to the page's ids."""
    from spark_fed.queries.timelines import TimelineKind, account_posts, tag_timeline, timeline

    if kind == "tag":

        async def read(session: Any, max_id: int | None, limit: int) -> list[int]:
            return [s.id for s in await tag_timeline(session, tag, limit=limit, max_id=max_id, reader=reader)]

    elif kind == "account":

        async def read(session: Any, max_id: int | None, limit: int) -> list[int]:
            found = await account_posts(session, reader, profile, limit=limit, max_id=max_id, replies=True)
            return [s.id for s in found]

    else:
        timeline_kind = TimelineKind(kind)

        async def read(session: Any, max_id: int | None, limit: int) -> list[int]:
            items = await timeline(session, reader, timeline_kind, limit=limit, max_id=max_id)
            return [item.status.id for item in items]

    return read


async def measure_kinds(
    db_path: Path,
    reader_id: int,
    profile_id: int,
    tag: str,
    truths: dict[str, list[int]],
    *,
    reads: int,
    limit: int,
    budget: float,
    seed: int,
) -> list[KindResult]:
    """Every kind in TRUTHS: first pages and deep pages through Spark, then the ceiling's."""
    from sqlalchemy import event

    from spark_fed.db import Database
    from spark_fed.models import Account

    rng = random.Random(seed)
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, tuple(parameters)))

    results = []
    try:
        async with db.read() as session:
            reader = await session.get(Account, reader_id)
            profile = await session.get(Account, profile_id)
        for kind, truth in truths.items():
            read = page_reader(kind, reader, profile, tag)
            pool = truth[: max(1, len(truth) - limit)]
            for series, cursors in (
                ("first page", [None] * reads),
                ("deep pages", [rng.choice(pool) for _ in range(reads)]),
            ):
                for _ in range(3):  # warm: SQLAlchemy's statement cache, the pool's connections
                    async with db.read() as session:
                        await read(session, cursors[0], limit)
                seconds, pages, page_sql = [], [], None
                deadline = time.perf_counter() + budget
                cpu_0 = time.process_time()
                event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
                for cursor in cursors:
                    captured.clear()
                    started = time.perf_counter()
                    async with db.read() as session:
                        page = await read(session, cursor, limit)
                    seconds.append(time.perf_counter() - started)
                    pages.append((cursor, page))
                    if page_sql is None:
                        page_sql = next((c for c in captured if PAGE_TABLE[kind] in c[0]), captured[0])
                    if time.perf_counter() > deadline:
                        break
                cpu = (time.process_time() - cpu_0) / len(seconds)
                event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
                ceiling, differ = ceiling_reads(db_path, kind, pages, reader_id, profile_id, tag, limit)
                position = {status_id: i for i, status_id in enumerate(truth)}
                wrong = differ + sum(
                    page != expected_page(position, truth, cursor, limit) for cursor, page in pages
                )
                plan = query_plan(db_path, *page_sql) if page_sql else ""
                results.append(KindResult(kind, series, seconds, cpu, ceiling, wrong, plan))
    finally:
        await db.dispose()
    return results


def expected_page(position: dict[int, int], truth: list[int], cursor: int | None, limit: int) -> list[int]:
    """The next LIMIT ids of TRUTH below CURSOR (an id of TRUTH, whose index POSITION holds)."""
    start = 0 if cursor is None else position[cursor] + 1
    return truth[start : start + limit]


def ceiling_reads(
    db_path: Path,
    kind: str,
    pages: list[tuple[int | None, list[int]]],
    reader_id: int,
    profile_id: int,
    tag: str,
    limit: int,
) -> tuple[list[float], int]:
    """The ceiling's latency for the same cursors, and how many of its pages differ from Spark's."""
    sql = CEILINGS[kind]
    seconds, differ = [], 0
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:

        def params(cursor: int | None) -> dict[str, Any]:
            return {
                "reader": reader_id,
                "profile": profile_id,
                "tag": tag,
                "cursor": cursor or NO_CURSOR,
                "limit": limit,
            }

        conn.execute(sql, params(None)).fetchall()
        for cursor, page in pages:
            started = time.perf_counter()
            rows = conn.execute(sql, params(cursor)).fetchall()
            seconds.append(time.perf_counter() - started)
            differ += [row[0] for row in rows] != page
    return seconds, differ


def query_plan(db_path: Path, sql: str, params: tuple[Any, ...]) -> str:
    """The outer query's steps; a full scan inside a subquery is added, the correlated EXISTS
    probes (blocks, mutes, who may read: one indexed lookup per row each) are left out."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    steps = [row[-1] for row in rows if row[1] == 0 and not row[-1].startswith("CORRELATED ")]
    probes = sum(row[1] == 0 and row[-1].startswith("CORRELATED ") for row in rows)
    scans = sorted({row[-1] for row in rows if row[1] != 0 and row[-1].startswith("SCAN ")})
    extra = [f"+{probes} correlated probes per row"] if probes else []
    return "; ".join(steps + extra + [f"in a subquery: {scan}" for scan in scans])


def report(results: list[KindResult], target: float) -> tuple[list[str], list[str]]:
    """Printable lines, and the failures: a wrong page, or a p95 over TARGET ms."""
    lines, failures = [], []
    lines.append(
        f"{'timeline':<10} {'series':<11} {'Spark p50':>10} {'p95':>9} {'CPU/page':>9}"
        f"   {'ceiling p50':>11} {'p95':>9}  n"
    )
    for r in results:
        ms = [s * 1000 for s in r.spark]
        ceiling = [s * 1000 for s in r.ceiling]
        p95 = percentile(ms, 0.95)
        lines.append(
            f"{r.kind:<10} {r.series:<11} {percentile(ms, 0.5):7.2f} ms {p95:6.2f} ms "
            f"{r.cpu * 1000:6.2f} ms   "
            f"{percentile(ceiling, 0.5):8.3f} ms {percentile(ceiling, 0.95):6.3f} ms  {len(ms)}"
        )
        if r.wrong:
            failures.append(f"{r.kind} {r.series}: {r.wrong} pages differ from the seeded timeline")
        if target and p95 > target:
            failures.append(f"{r.kind} {r.series}: p95 {p95:.2f} ms is over the target of {target:g} ms")
    lines.append("")
    lines.append("query plans (Spark's page query, deep page; the outer query's steps)")
    seen = set()
    for r in results:
        if r.kind not in seen:
            seen.add(r.kind)
            lines.append(f"  {r.kind:<10} {r.plan}")
    return lines, failures


API_ROUTES = {
    "home": ("/api/v1/timelines/home", {}),
    "local": ("/api/v1/timelines/public", {"local": "true"}),
    "federated": ("/api/v1/timelines/public", {}),
    "tag": ("/api/v1/timelines/tag/{tag}", {}),
    "account": ("/api/v1/accounts/{profile}/statuses", {}),
}
"""The client API's route of each kind. Mentions have none of their own (apps read them as
notifications, which the seeding does not write)."""


@dataclass
class ApiResult:
    kind: str
    series: str
    seconds: list[float]
    cpu: float
    wrong: int


async def api_kinds(
    spark: Any,
    token: str,
    truths: dict[str, list[int]],
    profile_id: int,
    tag: str,
    *,
    reads: int,
    limit: int,
    budget: float,
    seed: int,
) -> tuple[list[ApiResult], bytes]:
    """Every kind with an API route, first and deep pages over one keep-alive connection, with
    the server's CPU per request; also the bytes of the home timeline's first page."""
    import aiohttp

    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    results, home_page = [], b""
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        for kind, truth in truths.items():
            if kind not in API_ROUTES:
                continue
            path, query = API_ROUTES[kind]
            url = spark.base_url + path.format(tag=tag, profile=profile_id)
            position = {status_id: i for i, status_id in enumerate(truth)}
            pool = truth[: max(1, len(truth) - limit)]

            async def get(cursor: int | None, url: str = url, query: dict[str, str] = query) -> bytes:
                params = query | {"limit": str(limit)} | ({"max_id": str(cursor)} if cursor else {})
                async with session.get(url, params=params) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"GET {url} answered {response.status}: {body[:200]!r}")
                    return body

            for series, cursors in (
                ("first page", [None] * reads),
                ("deep pages", [rng.choice(pool) for _ in range(reads)]),
            ):
                for _ in range(3):  # warm: the server's statement caches
                    await get(cursors[0])
                seconds, wrong = [], 0
                cpu_0 = spark.cpu_seconds()
                deadline = time.perf_counter() + budget
                for cursor in cursors:
                    started = time.perf_counter()
                    body = await get(cursor)
                    seconds.append(time.perf_counter() - started)
                    page = [int(entity["id"]) for entity in json.loads(body)]
                    if kind == "home" and cursor is None:
                        home_page = body
                    wrong += page != expected_page(position, truth, cursor, limit)
                    if time.perf_counter() > deadline:
                        break
                cpu = (spark.cpu_seconds() - cpu_0) / len(seconds)
                results.append(ApiResult(kind, series, seconds, cpu, wrong))
    return results, home_page


def api_report(results: list[ApiResult], floor: list[float]) -> tuple[list[str], list[str]]:
    """Printable lines beside the HTTP ceiling, and the failures (a wrong page)."""
    floor_ms = [s * 1000 for s in floor]
    lines = [f"{'timeline':<10} {'series':<11} {'API p50':>10} {'p95':>9} {'server CPU':>11}"]
    failures = []
    for r in results:
        ms = [s * 1000 for s in r.seconds]
        lines.append(
            f"{r.kind:<10} {r.series:<11} {percentile(ms, 0.5):7.2f} ms {percentile(ms, 0.95):6.2f} ms "
            f"{r.cpu * 1000:8.2f} ms  n={len(ms)}"
        )
        if r.wrong:
            failures.append(f"API {r.kind} {r.series}: {r.wrong} pages differ from the seeded timeline")
    if floor_ms:
        lines.append(
            f"{'ceiling':<10} {'aiohttp':<11} {percentile(floor_ms, 0.5):7.2f} ms "
            f"{percentile(floor_ms, 0.95):6.2f} ms   a bare handler answering the home page's bytes"
        )
    return lines, failures
