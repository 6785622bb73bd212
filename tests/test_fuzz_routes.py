"""Every route of the app, fuzzed over real HTTP: no input makes Spark answer 5xx.

For each route the router serves (enumerated, so a new route is fuzzed without editing this file),
Hypothesis draws requests from `tests/fuzzing.py`: hostile path segments, query strings, headers and
bodies, sent as a stranger, with alice's bearer token, or with her browser session (cookie, same-origin
headers and the CSRF token, so form handlers run past their checks). alice is an admin, so the
moderation pages are reached too. What must hold for every answer:

- its status is below 500;
- a 4xx's message is one line;
- a refused write (4xx to POST, PUT, PATCH or DELETE) leaves every table's row count as it was.

Spark's outbound client is wrapped to reach loopback only, so nothing the fuzzer names (a search
with `resolve=true`, a remote account) makes it contact the world.

The inbox is fuzzed once more with valid signatures over the hostile bodies, so that the code after the
signature check runs too.

The run is bounded in CI (the `ci` Hypothesis profile, a few examples a route, derandomized);
`make fuzz` runs the long profile. Fuzz suites run in the SQLite pass of CI only.
"""

import asyncio
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, text
from sqlmodel import SQLModel, select

from outbox import actions, moderation, posts
from spark_fed import browser_sessions
from spark_fed.models import InboxItem
from spark_fed.models.jobs import JobState
from spark_fed.tokens import create_token, parse_scopes

from . import fuzzing
from .conftest import PG_URL, Spark, eventually
from .fuzzing import Answer, Route
from .peers import FakeMastodon
from .peers.cavage import digest_header, http_date, sign

ONLY_ON_SQLITE = pytest.mark.skipif(PG_URL is not None, reason="fuzz suites run in the SQLite pass only")


class Fixture:
    """alice's credentials and the ids and names worth aiming at, refreshed before each route."""

    def __init__(self, spark: Spark) -> None:
        self.spark = spark
        self.token = ""
        self.cookie = ""
        self.csrf = ""
        self.seeded: list[str] = []
        self.by_placeholder: dict[str, list[str]] = {}

    async def seed(self) -> None:
        ctx = self.spark.ctx
        alice, bob, carol = [await self.spark.user(name) for name in ("alice", "bob", "carol")]
        self.alice = alice
        await moderation.set_role(ctx, alice, "admin")
        await actions.follow(ctx, bob, alice.uri)
        await actions.follow(ctx, alice, bob.uri)
        first = await posts.post(ctx, alice, "Hello #spark, @bob!")
        reply = await posts.post(ctx, bob, "@alice hi", reply_to=first.uri)
        await posts.post(ctx, carol, "for bob @bob", visibility="direct")
        accounts, statuses = [str(a.id) for a in (alice, bob, carol)], [str(first.id), str(reply.id)]
        names = ["alice", "bob", "carol"]
        self.seeded = [*names, "spark", "1", "2.0", *accounts, *statuses]
        self.by_placeholder = {
            "username": names,
            "name": ["spark", "spark.js", "spark.css", *names],
            "hashtag": ["spark"],
            "account_id": accounts,
            "status_id": statuses,
            "id": [*accounts, *statuses, "1"],
            "version": ["2.0", "2.1"],
        }
        await self.refresh()

    async def refresh(self) -> None:
        """New credentials: a route may have signed alice out or revoked her token."""
        db = self.spark.db
        self.token = await create_token(db, self.alice, parse_scopes("read write follow push"))
        self.cookie = await browser_sessions.start(db, self.alice, user_agent="fuzz", address="127.0.0.1")
        found = await browser_sessions.find(db, self.cookie)
        assert found is not None
        self.csrf = found.session.csrf_token

    async def counts(self) -> dict[str, int]:
        tables = sorted(SQLModel.metadata.tables)
        query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
        async with self.spark.db.read() as session:
            row = (await (await session.connection()).execute(text(query))).one()
        return dict(zip(tables, row, strict=True))


def _credentials(fixture: Fixture, who: str) -> dict[str, str]:
    """Headers of a bearer-token client or of alice's browser (whose forms carry the CSRF token)."""
    if who == "token":
        return {"Authorization": f"Bearer {fixture.token}"}
    if who == "session":
        return {
            "Cookie": f"spark_session={fixture.cookie}",
            "Origin": fixture.spark.base,
            "Sec-Fetch-Site": "same-origin",
        }
    return {}


def _credential_kinds(route: Route) -> list[str]:
    """Mostly the credentials the route reads, so that its handler runs past the check."""
    api = route.template.startswith(("/api/", "/oauth/"))
    return ["token", "token", "token", "nobody", "session"] if api else ["session"] * 3 + ["nobody", "token"]


def _check(route: Route, request: str, answer: Answer, before: Any, after: Any) -> None:
    described = f"{request}\n-> {answer.status} {answer.content_type}: {answer.body[:300]!r}"
    assert answer.status < 500, f"server error for {described}"
    if 400 <= answer.status < 500:
        problem = fuzzing.one_line_error(answer)
        assert problem is None, f"{problem} for {described}"
        if route.method in fuzzing.WRITE_METHODS and before is not None:
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            assert not changed, f"a refused write changed row counts {changed} for {described}"


def _fuzz_route(
    fixture: Fixture, route: Route, loop: asyncio.AbstractEventLoop, seen: Counter[int]
) -> str | None:
    """Runs in a worker thread: Hypothesis and its blocking client stay off the server's loop.

    Returns what went wrong (Hypothesis' smallest failing example), or None."""
    host, port = "127.0.0.1", fixture.spark.config.server.port
    seeded = fixture.seeded

    def on_loop(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    @settings(settings.get_profile(fuzzing.PROFILE))
    @given(
        path=fuzzing.paths(route, fixture.by_placeholder),
        query=fuzzing.queries(seeded) | st.just(""),
        who=st.sampled_from(_credential_kinds(route)),
        headers=fuzzing.STRANGE_HEADERS,
        accept=st.sampled_from(["application/json", "text/html", "application/activity+json", None]),
        data=st.data(),
    )
    def example(path, query, who, headers, accept, data) -> None:
        csrf = fixture.csrf if who == "session" else None
        body = data.draw(fuzzing.bodies(seeded, csrf) if route.method != "GET" else st.none(), label="body")
        sent = {**headers, **_credentials(fixture, who)}
        if accept:
            sent["Accept"] = accept
        if body is not None and body.content_type is not None:
            sent["Content-Type"] = body.content_type
        if data.draw(st.booleans(), label="gzip header") and body is not None:
            sent["Content-Encoding"] = "gzip"  # a lie: the body is not compressed
        target = path + ("?" + query if query else "")
        write = route.method in fuzzing.WRITE_METHODS
        before = on_loop(fixture.counts()) if write else None
        answer = fuzzing.send(host, port, route.method, target, sent, body.data if body else None)
        seen[answer.status] += 1
        after = on_loop(fixture.counts()) if write and 400 <= answer.status < 500 else None
        request = f"{route.method} {target} {sent} {body.data[:300] if body else b''!r}"
        _check(route, request, answer, before, after)

    try:
        example()
    except (AssertionError, ExceptionGroup) as exc:
        return str(exc) if isinstance(exc, AssertionError) else "\n".join(map(str, exc.exceptions))
    return None


@ONLY_ON_SQLITE
async def test_no_route_answers_5xx_to_hostile_input(spark: Spark) -> None:
    refused: list[str] = []
    fuzzing.loopback_only(spark, refused)  # `resolve=true`, `@x@some.host`: never the world
    fixture = Fixture(spark)
    await fixture.seed()
    routes = fuzzing.routes_of(spark.app)
    assert len(routes) > 100, "the router was not enumerated"
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    failures, reached = [], []
    for route in routes:
        await fixture.refresh()
        seen: Counter[int] = Counter()
        failure = await asyncio.to_thread(_fuzz_route, fixture, route, loop, seen)
        if failure:
            failures.append(f"{route.method} {route.template}: {failure}")
        reached.append(f"{route.method} {route.template}: {dict(sorted(seen.items()))}")
    print(f"fuzzed {len(routes)} routes in {time.monotonic() - started:.1f} s; refused outbound: {refused}")
    print("answers by route:")
    print("\n".join(reached))
    assert not failures, f"{len(failures)} routes failed:\n\n" + "\n\n".join(failures)


@ONLY_ON_SQLITE
async def test_signed_hostile_activities_get_no_5xx_and_crash_no_handler(
    spark: Spark, aiohttp_server, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed with the sender's real key over the hostile body, so the inbox's parsing, the queue and
    every activity handler run on it: the answer is never 5xx and no handler raises unexpectedly."""
    fuzzing.loopback_only(spark, [])
    peer = FakeMastodon("mallory")
    await peer.start(aiohttp_server)
    alice = await spark.user("alice")
    note = await posts.post(spark.ctx, alice, "hello")
    actor, key, key_id = peer.actor_id("mallory"), peer.accounts["mallory"].key, peer.key_id("mallory")
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(_fuzz_signed_inbox, spark, actor, key, key_id, [alice.uri, note.uri], loop)

    async def drained() -> bool:
        async with spark.db.read() as session:
            untried = (
                select(func.count())
                .select_from(InboxItem)
                .where(InboxItem.state == JobState.QUEUED, InboxItem.attempts == 0)
            )
            return (await session.exec(untried)).one() == 0

    await eventually(drained, timeout=120, what="every activity to be processed once")
    crashes = [
        f"{r.getMessage()}: {r.exc_info[1] if r.exc_info else ''!r}"
        for r in caplog.records
        if "failed unexpectedly" in r.getMessage()
    ]
    assert not crashes, "activity handlers raised:\n" + "\n".join(crashes)


def _fuzz_signed_inbox(
    spark: Spark, actor: str, key: Any, key_id: str, targets: list[str], loop: asyncio.AbstractEventLoop
) -> None:
    host, port = "127.0.0.1", spark.config.server.port

    profile = settings.get_profile(fuzzing.PROFILE)

    @settings(profile, max_examples=profile.max_examples * 10)  # one route: worth more examples
    @given(
        activity=fuzzing.activities(actor, targets),
        path=st.sampled_from(["/inbox", "/users/alice/inbox"]),
        content_type=st.sampled_from(fuzzing.JSON_TYPES[:4]),
    )
    def example(activity, path, content_type) -> None:
        body = fuzzing.dump(activity).encode("utf-8", "surrogatepass")
        headers = {
            "Host": spark.domain,
            "Date": http_date(),
            "Digest": digest_header(body),
            "Content-Type": content_type,
        }
        headers["Signature"] = sign(key, key_id, "POST", path, list(headers.items()))
        answer = fuzzing.send(host, port, "POST", path, {**headers, "Accept": "application/json"}, body)
        request = f"POST {path} {body[:500]!r}"
        _check(Route("POST", path), request, answer, None, None)

    example()
