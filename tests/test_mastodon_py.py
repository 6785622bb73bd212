"""Spark driven by the real Mastodon.py client library, as a script author would use it.

Mastodon.py blocks, so it runs in a thread, never on the test's event loop (docs/decisions.md).
"""

import asyncio

from mastodon import Mastodon
from sqlmodel import select

from spark_fed.accounts import set_password_hash
from spark_fed.models import Follow, FollowState
from spark_fed.passwords import hash_password

from .conftest import Spark, eventually

PASSWORD = "a long enough password"


async def _with_password(spark: Spark, name: str) -> None:
    account = await spark.user(name)
    await set_password_hash(spark.db, account, await hash_password(spark.config.auth, PASSWORD))


def _sign_in(base: str, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "spark-test", api_base_url=base, scopes=["read", "write", "follow"]
    )
    api = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=base, version_check_mode="none"
    )
    api.log_in(
        username, PASSWORD, scopes=["read", "write", "follow"], allow_http=True
    )  # loopback test servers
    return api


async def test_mastodon_py_posts_follows_and_reads(start_spark) -> None:
    a, b = await start_spark(), await start_spark()
    await _with_password(a, "alice")
    await _with_password(b, "bob")
    alice = await asyncio.to_thread(_sign_in, a.base, "alice")
    bob = await asyncio.to_thread(_sign_in, b.base, "bob")

    me = await asyncio.to_thread(alice.account_verify_credentials)
    assert me["acct"] == "alice"
    posted = await asyncio.to_thread(alice.status_post, "hello from Mastodon.py")
    home = await asyncio.to_thread(alice.timeline_home)
    assert [s["id"] for s in home] == [posted["id"]]

    remote_bob = await asyncio.to_thread(alice.account_lookup, f"bob@{b.domain}")
    await asyncio.to_thread(alice.account_follow, remote_bob["id"])

    async def accepted() -> bool:
        async with a.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="bob's server to accept alice's follow")
    bobs_post = await asyncio.to_thread(bob.status_post, "a post for my followers")

    async def delivered() -> list:
        return await asyncio.to_thread(alice.timeline_home)

    async def arrived() -> dict | None:
        return next((s for s in await delivered() if s["uri"] == bobs_post["uri"]), None)

    copy = await eventually(arrived, what="bob's post in alice's home timeline")
    await asyncio.to_thread(alice.status_favourite, copy["id"])
    await asyncio.to_thread(alice.status_reblog, copy["id"])

    async def notified() -> list | None:
        kinds = sorted(n["type"] for n in await asyncio.to_thread(bob.notifications))
        return kinds if kinds == ["favourite", "follow", "reblog"] else None

    assert await eventually(notified, what="bob's notifications") == ["favourite", "follow", "reblog"]
