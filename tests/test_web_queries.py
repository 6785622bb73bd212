"""The web pages cost a fixed number of SQL statements, however many posts they show.

Each instance is seeded with CYCLES rounds of the same mix, so that every kind of row a page
renders is there at every size: the viewer's own post, a reply to it, a boost by someone she
follows, a note by a remote account, her own boost, her likes, and the notifications all of
that sends her (mentions, a like, a boost, follows). The statements the engine sends to the database are
counted (SQLAlchemy's `before_cursor_execute`: one per real statement, the session lookup and
a write's BEGIN IMMEDIATE included) while a signed-in browser GETs the page, once to warm up
and once counted, on an instance whose queue workers are off (their polls would be counted too).
The counts must be equal at both sizes and small: 9 for the home page, 12 and 14 for the
profile tabs, 12 for notifications on SQLite (11 on PostgreSQL, which sends no BEGIN IMMEDIATE
for the write that moves the notifications marker).
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from outbox import actions, interactions, posts
from spark_fed import browser_sessions
from spark_fed.content.sources import Written
from spark_fed.models import Account, Follow, FollowState, Status
from spark_fed.models.ids import new_id
from spark_fed.statuses import store_status

from .conftest import Spark, free_port, test_config
from .statements import request_statements

COOKIE = "spark_session"
MOST_STATEMENTS = 15  # 12, with the page's link cards, polls and quotes (one query each)
# The page's own 3 counts, the follow between viewer and account, cards, polls and quotes.
MOST_STATEMENTS_PROFILE = 19
FEED_PER_CYCLE = 5  # the home-feed rows one round adds for alice
SMALL, LARGE = 1, 4  # rounds: 5 and 20 posts on alice's home page (a page holds 20)


async def _remote(spark: Spark, name: str, follower: Account) -> Account:
    """A remote account FOLLOWER follows (accepted), stored as a fetched actor would be."""
    async with spark.db.write() as session:
        account = Account(
            uri=f"https://remote.example/users/{name}",
            username=name,
            domain="remote.example",
            display_name=name.title(),
            inbox_url=f"https://remote.example/users/{name}/inbox",
            shared_inbox_url="https://remote.example/inbox",
            public_key_id=f"https://remote.example/users/{name}#main-key",
            public_key_pem="unused",
        )
        session.add(account)
        await session.flush()
        session.add(
            Follow(
                follower_id=follower.id,
                followee_id=account.id,
                uri=f"{follower.uri}#follows/{account.id}",
                state=FollowState.ACCEPTED,
            )
        )
    return account


async def _remote_note(spark: Spark, author: Account, text: str, mentions: list[Account]) -> Status:
    """A note by a remote AUTHOR as `inbox/notes.py` stores one that arrived (feeds, mentions)."""
    async with spark.db.write() as session:
        status_id = await new_id(session)
        status = Status(
            id=status_id,
            uri=f"{author.uri}/statuses/{status_id}",
            url=f"https://remote.example/@{author.username}/{status_id}",
            account_id=author.id,
            local=False,
            visibility="public",
        )
        await store_status(session, status, author, Written(f"<p>{text}</p>", mentions))
    return status


async def _seeded(spark: Spark, cycles: int) -> str:
    """Alice's instance with CYCLES rounds of posts; returns her session cookie."""
    ctx = spark.ctx
    alice, bob, carol = await spark.user("alice"), await spark.user("bob"), await spark.user("carol")
    erin = await spark.user("erin")  # whom alice does not follow: her posts reach alice boosted
    for follower, followee in ((alice, bob), (alice, carol), (bob, alice), (carol, alice)):
        await actions.follow(ctx, follower, followee.uri)
    dave = await _remote(spark, "dave", alice)
    for n in range(cycles):
        # alice's home feed gets five rows a round. A boost lands only in a feed that does not
        # show the note yet (spark_fed/statuses.py `store_boost`), so the boosts are of erin's.
        own = await posts.post(ctx, alice, f"Post {n} #spark", visibility="public")
        reply = await posts.post(ctx, bob, f"@alice reply {n}", reply_to=own.uri)
        first = await posts.post(ctx, erin, f"Erin {n}.1")
        second = await posts.post(ctx, erin, f"Erin {n}.2")
        await interactions.boost(ctx, carol, first.uri)
        remote = await _remote_note(spark, dave, f"Remote {n} for @alice", [alice])
        await interactions.boost(ctx, alice, second.uri)
        # Not in her feed, but notifications: carol boosts and bob likes alice's post.
        await interactions.boost(ctx, carol, own.uri)
        await interactions.like(ctx, bob, own.uri)
        for liked in (remote, reply, second):
            await interactions.like(ctx, alice, liked.uri)
    return await browser_sessions.start(spark.db, alice, user_agent="", address="")


async def _statements(spark: Spark, aiohttp_client, cookie: str, path: str) -> tuple[int, str]:
    """The statements sent while a signed-in browser GETs PATH (after one warm-up GET), and the page."""
    client = await aiohttp_client(spark.server)
    headers = {"Cookie": f"{COOKIE}={cookie}", "Accept": "text/html"}
    warm = await client.get(path, headers=headers, allow_redirects=False)
    assert warm.status == 200, await warm.text()
    with request_statements(spark.db.engine) as sent:
        response = await client.get(path, headers=headers, allow_redirects=False)
        body = await response.text()
    assert response.status == 200, body
    return len(sent), body


@pytest.fixture
def quiet_spark(start_spark, database_url) -> Callable[[], Awaitable[Spark]]:
    """An instance without its queue workers, whose polls would be counted with the page's."""

    async def start() -> Spark:
        config = test_config(await database_url(), free_port())
        return await start_spark(replace(config, server=replace(config.server, run_workers=False)))

    return start


async def _measure(quiet_spark, aiohttp_client, path: str) -> dict[int, tuple[int, str]]:
    """Per size (rounds), the statements of one GET of PATH and the page it answered."""
    measured = {}
    for cycles in (SMALL, LARGE):
        spark = await quiet_spark()
        cookie = await _seeded(spark, cycles)
        measured[cycles] = await _statements(spark, aiohttp_client, cookie, path)
    return measured


def _assert_fixed(measured: dict[int, tuple[int, str]], most: int = MOST_STATEMENTS) -> None:
    counts = {cycles: statements for cycles, (statements, _page) in measured.items()}
    assert counts[SMALL] == counts[LARGE], f"statements by rounds seeded: {counts}"
    assert counts[LARGE] <= most, f"statements by rounds seeded: {counts}, more than {most}"


async def test_home_page_costs_the_same_statements_for_5_and_20_posts(quiet_spark, aiohttp_client) -> None:
    measured = await _measure(quiet_spark, aiohttp_client, "/")
    for cycles, (_statements_sent, page) in measured.items():
        assert page.count('<article class="post') == cycles * FEED_PER_CYCLE
        assert "reposted</p>" in page and "Replying to" in page and "@dave@remote.example" in page
        assert 'aria-pressed="true"' in page  # the viewer's likes and reposts are shown as such
    _assert_fixed(measured)


async def test_profile_page_costs_the_same_statements_whatever_it_shows(quiet_spark, aiohttp_client) -> None:
    measured = await _measure(quiet_spark, aiohttp_client, "/@alice")
    for cycles, (_statements_sent, page) in measured.items():
        # Her own posts and her boosts (replies are on the other tab).
        assert page.count('<article class="post') == cycles * 2
        assert "reposted</p>" in page
    _assert_fixed(measured, MOST_STATEMENTS_PROFILE)


async def test_profile_replies_tab_costs_the_same_statements(quiet_spark, aiohttp_client) -> None:
    measured = await _measure(quiet_spark, aiohttp_client, "/@bob?tab=replies")
    for cycles, (_statements_sent, page) in measured.items():
        assert page.count('<article class="post') == cycles
        assert "Replying to" in page
    _assert_fixed(measured, MOST_STATEMENTS_PROFILE)


async def test_notifications_page_costs_the_same_statements(quiet_spark, aiohttp_client) -> None:
    measured = await _measure(quiet_spark, aiohttp_client, "/notifications")
    for cycles, (_statements_sent, page) in measured.items():
        # Per round: bob's mention and like, carol's boost, dave's mention; and the two follows.
        assert page.count('<article class="notification') == cycles * 4 + 2
    _assert_fixed(measured)
