"""`statuses_count` and `last_status_at` on the account row, kept by `spark_fed/statuses.py`.

They must always equal what the query they replace counted: the public and unlisted statuses of
the account, boosts included, and the newest one's `published`.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy import func
from sqlmodel import col, select

from inbox import notes as inbox_notes
from outbox import interactions, posts
from spark_fed.db import Database
from spark_fed.migrations import _alembic_config, current_revision, upgrade
from spark_fed.models import Account, Status, Visibility
from spark_fed.models.types import UTCDateTime
from spark_fed.queries.views import account_counts, counts_by_account
from spark_fed.statuses import remove_account
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark
from .peers import FakeMastodon

COUNTED = [Visibility.PUBLIC, Visibility.UNLISTED]


async def _recounted(spark: Spark) -> dict[int, tuple[int, datetime | None]]:
    """What the old query answered, for every account."""
    async with spark.db.read() as session:
        ids = (await session.exec(select(Account.id))).all()
        rows = await session.exec(
            select(Status.account_id, func.count(), func.max(Status.published))
            .where(col(Status.visibility).in_(COUNTED))
            .group_by(Status.account_id)
        )
        found = {account_id: (count, last) for account_id, count, last in rows.all()}
    return {i: found.get(i, (0, None)) for i in ids}


async def _stored(spark: Spark) -> dict[int, tuple[int, datetime | None]]:
    async with spark.db.read() as session:
        ids = set((await session.exec(select(Account.id))).all())
        return {i: (c[2], c[3]) for i, c in (await counts_by_account(session, ids)).items()}


async def _counts(spark: Spark, account: Account) -> tuple[int, datetime | None]:
    async with spark.db.read() as session:
        _followers, _following, statuses, last = await account_counts(session, account.id)
    return statuses, last


async def _consistent(spark: Spark) -> dict[int, tuple[int, datetime | None]]:
    stored = await _stored(spark)
    assert stored == await _recounted(spark)
    return stored


async def test_local_posts_count_public_and_unlisted_only(spark: Spark) -> None:
    alice = await spark.user("alice")
    assert await _counts(spark, alice) == (0, None)
    public = await posts.post(spark.ctx, alice, "one")
    unlisted = await posts.post(spark.ctx, alice, "two", visibility=Visibility.UNLISTED)
    await posts.post(spark.ctx, alice, "three", visibility=Visibility.FOLLOWERS)
    await posts.post(spark.ctx, alice, "four", visibility=Visibility.DIRECT)
    assert await _counts(spark, alice) == (2, unlisted.published)
    await _consistent(spark)

    await posts.edit(spark.ctx, alice, public.uri, "one, edited")
    assert await _counts(spark, alice) == (2, unlisted.published)
    await posts.delete(spark.ctx, alice, unlisted.uri)
    assert await _counts(spark, alice) == (1, public.published)  # recomputed, not left stale
    await posts.delete(spark.ctx, alice, public.uri)
    assert await _counts(spark, alice) == (0, None)
    await _consistent(spark)


async def test_boosts_count_and_go_with_the_boosted_note(spark: Spark) -> None:
    alice, bob = await spark.user("alice"), await spark.user("bob")
    note = await posts.post(spark.ctx, bob, "boost me")
    own = await posts.post(spark.ctx, alice, "mine")
    boost = await interactions.boost(spark.ctx, alice, note.uri)
    assert await _counts(spark, alice) == (2, boost.published)
    assert await interactions.boost(spark.ctx, alice, note.uri) == boost  # once only
    assert await _counts(spark, alice) == (2, boost.published)

    await interactions.unboost(spark.ctx, alice, note.uri)
    assert await _counts(spark, alice) == (1, own.published)
    await interactions.boost(spark.ctx, alice, note.uri)
    await _consistent(spark)

    # Deleting the note deletes alice's boost of it (ON DELETE CASCADE): her counts follow.
    await posts.delete(spark.ctx, bob, note.uri)
    assert await _counts(spark, alice) == (1, own.published)
    assert await _counts(spark, bob) == (0, None)
    await _consistent(spark)


async def test_remote_notes_count_as_they_arrive_and_go(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    for visibility in ("public", "unlisted", "private", "direct"):
        await spark.ctx.notes.ingest(peer.create_note("carol", visibility, visibility=visibility)["object"])
    carol = await spark.ctx.actors.get(peer.actor_id("carol"))
    stored = await _consistent(spark)
    count, newest = stored[carol.id]
    assert count == 2

    # A note published long ago that arrives now counts, and leaves last_status_at alone.
    old = peer.create_note("carol", "from the archive")["object"]
    old["published"] = (newest - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    await spark.ctx.notes.ingest(old)
    assert await _counts(spark, carol) == (3, newest)
    await spark.ctx.notes.ingest(old)  # stored once, counted once
    assert await _counts(spark, carol) == (3, newest)
    await _consistent(spark)

    await inbox_notes.delete_note(spark.ctx, carol, peer.delete_note("carol", old["id"]))
    assert await _counts(spark, carol) == (2, newest)
    await _consistent(spark)


async def test_removing_an_account_uncounts_the_boosts_of_its_notes(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    note = await spark.ctx.notes.ingest(peer.create_note("carol", "hello")["object"])
    alice = await spark.user("alice")
    await interactions.boost(spark.ctx, alice, note.uri)
    assert (await _counts(spark, alice))[0] == 1
    async with spark.db.write() as session:
        await remove_account(session, await session.get(Account, note.account_id))
    assert await _counts(spark, alice) == (0, None)
    await _consistent(spark)


async def test_the_api_shows_the_stored_counts(spark: Spark, aiohttp_client) -> None:
    alice = await spark.user("alice")
    token = await create_token(spark.db, alice, parse_scopes("read write"))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    for visibility in ("public", "unlisted", "private", "direct"):
        resp = await client.post("/api/v1/statuses", data={"status": visibility, "visibility": visibility})
        assert resp.status == 200, await resp.text()
    me = await (await client.get("/api/v1/accounts/verify_credentials")).json()
    assert me["statuses_count"] == 2 and me["last_status_at"] == datetime.now(UTC).strftime("%Y-%m-%d")
    [newest, *_] = await (await client.get("/api/v1/timelines/home")).json()
    assert newest["account"]["statuses_count"] == 2


# The migration: 0009's schema, statuses written as they were, then 0010 counts them.

_accounts = sa.table(
    "accounts",
    *(sa.column(name) for name in ("id", "uri", "username", "domain", "actor_type", "locked")),
    *(sa.column(name) for name in ("discoverable", "inbox_url", "public_key_id", "public_key_pem")),
    sa.column("created_at", UTCDateTime()),
)
_statuses = sa.table(
    "statuses",
    *(sa.column(name) for name in ("id", "uri", "account_id", "local", "visibility", "content", "summary")),
    *(sa.column(name) for name in ("sensitive", "reblog_of_id", "replies_count", "reblogs_count")),
    sa.column("favourites_count"),
    sa.column("published", UTCDateTime()),
)


async def test_the_migration_backfills_the_counts(database_url) -> None:
    db = Database(await database_url())
    try:
        await upgrade(db, "0009")
        t0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
        accounts = [
            {"id": n, "uri": f"https://peer.example/users/u{n}", "username": f"u{n}"} for n in (1, 2, 3)
        ]
        statuses = [  # (id, account, visibility, minutes after t0, boost of)
            (10, 1, "public", 0, None),
            (11, 1, "unlisted", 30, None),
            (12, 1, "followers", 40, None),
            (13, 1, "direct", 50, None),
            (14, 2, "direct", 5, None),
            (15, 2, "public", 20, 10),  # a boost counts, as a status of its booster
            (16, 1, "public", 10, None),
        ]
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.insert(_accounts),
                [
                    {
                        **a,
                        "domain": "peer.example",
                        "actor_type": "Person",
                        "locked": False,
                        "discoverable": True,
                        "inbox_url": f"{a['uri']}/inbox",
                        "public_key_id": f"{a['uri']}#main-key",
                        "public_key_pem": "-",
                        "created_at": t0,
                    }
                    for a in accounts
                ],
            )
            await conn.execute(
                sa.insert(_statuses),
                [
                    {
                        "id": sid,
                        "uri": f"https://peer.example/statuses/{sid}",
                        "account_id": account,
                        "local": False,
                        "visibility": visibility,
                        "content": "",
                        "summary": "",
                        "sensitive": False,
                        "reblog_of_id": boost_of,
                        "replies_count": 0,
                        "reblogs_count": 0,
                        "favourites_count": 0,
                        "published": t0 + timedelta(minutes=minutes),
                    }
                    for sid, account, visibility, minutes, boost_of in statuses
                ],
            )
        await upgrade(db)
        async with db.read() as session:
            found = await counts_by_account(session, {1, 2, 3})
        assert {i: (c[2], c[3]) for i, c in found.items()} == {
            1: (3, t0 + timedelta(minutes=30)),
            2: (1, t0 + timedelta(minutes=20)),
            3: (0, None),
        }

        # And back: 0009's accounts again, every row kept.
        async with db.engine.connect() as conn:
            await conn.run_sync(lambda sync: command.downgrade(_alembic_config(sync), "0009"))
            await conn.commit()
        assert await current_revision(db) == "0009"
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("accounts"))
            assert {"statuses_count", "last_status_at"}.isdisjoint(c["name"] for c in columns)
            assert (await conn.execute(sa.text("SELECT count(*) FROM statuses"))).scalar() == len(statuses)
    finally:
        await db.dispose()
