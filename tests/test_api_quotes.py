"""Quotes through the client API: Mastodon.py posting, listing and revoking a quote; the entity's
`quote` (nested one level, shallow below) and `quote_approval`; refusals that store nothing."""

import asyncio

import pytest
from mastodon import Mastodon, MastodonAPIError
from sqlalchemy import func
from sqlmodel import select

from spark_fed.accounts import set_password_hash
from spark_fed.models import Notification, Status
from spark_fed.passwords import hash_password

from .api_clients import api_client
from .conftest import Spark

PASSWORD = "a long enough password"


def _sign_in(base: str, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("spark-test", api_base_url=base, scopes=["read", "write"])
    api = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=base, version_check_mode="none"
    )
    api.log_in(username, PASSWORD, scopes=["read", "write"], allow_http=True)
    return api


async def _count(spark: Spark) -> int:
    async with spark.db.read() as session:
        return (await session.exec(select(func.count()).select_from(Status))).one()


async def test_mastodon_py_quotes_lists_and_revokes(spark: Spark) -> None:
    for name in ("alice", "bob"):
        account = await spark.user(name)
        await set_password_hash(spark.db, account, await hash_password(spark.config.auth, PASSWORD))
    alice = await asyncio.to_thread(_sign_in, spark.base, "alice")
    bob = await asyncio.to_thread(_sign_in, spark.base, "bob")

    original = await asyncio.to_thread(
        alice.status_post, "followers may quote", quote_approval_policy="followers"
    )
    seen = await asyncio.to_thread(bob.status, original["id"])
    assert seen["quote_approval"] == {"automatic": ["followers"], "manual": [], "current_user": "denied"}
    with pytest.raises(MastodonAPIError):
        await asyncio.to_thread(bob.status_post, "let me", quoted_status_id=original["id"])

    await asyncio.to_thread(bob.account_follow, (await asyncio.to_thread(alice.me))["id"])
    quoting = await asyncio.to_thread(bob.status_post, "now I may", quoted_status_id=original["id"])
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]

    assert (await asyncio.to_thread(alice.status, original["id"]))["quotes_count"] == 1
    listed = await asyncio.to_thread(alice.status_quotes, original["id"])
    assert [s["id"] for s in listed] == [quoting["id"]]
    revoked = await asyncio.to_thread(alice.status_quote_revoke, original["id"], quoting["id"])
    assert revoked["quote"]["state"] == "revoked" and revoked["quote"]["quoted_status"] is None
    assert await asyncio.to_thread(alice.status_quotes, original["id"]) == []


async def test_quotes_nest_one_level_and_edits_reach_the_quoters(spark: Spark, aiohttp_client) -> None:
    alice_api, _ = await api_client(spark, aiohttp_client, "alice")
    bob_api, bob = await api_client(spark, aiohttp_client, "bob")
    carol_api, _ = await api_client(spark, aiohttp_client, "carol")
    first = await (await alice_api.post("/api/v1/statuses", data={"status": "first"})).json()
    assert first["quote"] is None
    assert first["quote_approval"] == {"automatic": ["public"], "manual": [], "current_user": "automatic"}
    second = await (
        await bob_api.post("/api/v1/statuses", data={"status": "second", "quoted_status_id": first["id"]})
    ).json()
    third = await (
        await carol_api.post("/api/v1/statuses", json={"status": "third", "quoted_status_id": second["id"]})
    ).json()
    inner = third["quote"]["quoted_status"]
    assert inner["id"] == second["id"]
    assert inner["quote"] == {"state": "accepted", "quoted_status_id": first["id"]}

    await alice_api.put(f"/api/v1/statuses/{first['id']}", data={"status": "first, edited"})
    async with spark.db.read() as session:
        kinds = (await session.exec(select(Notification.type).where(Notification.account_id == bob.id))).all()
    assert "quoted_update" in kinds
    notifications = await (await bob_api.get("/api/v1/notifications")).json()
    assert "quoted_update" in {n["type"] for n in notifications}


async def test_what_may_not_be_quoted_is_refused_and_nothing_stored(spark: Spark, aiohttp_client) -> None:
    alice_api, alice = await api_client(spark, aiohttp_client, "alice")
    bob_api, _ = await api_client(spark, aiohttp_client, "bob")
    direct = await (
        await alice_api.post("/api/v1/statuses", data={"status": "@bob secret", "visibility": "direct"})
    ).json()
    private = await (
        await alice_api.post("/api/v1/statuses", data={"status": "mine", "visibility": "private"})
    ).json()
    closed = await (
        await alice_api.post("/api/v1/statuses", data={"status": "no", "quote_approval_policy": "nobody"})
    ).json()
    before = await _count(spark)
    await bob_api.post(f"/api/v1/accounts/{alice.id}/follow")
    cases = [
        ({"status": "x", "quoted_status_id": private["id"]}, 422),  # followers-only: never quotable
        ({"status": "x", "quoted_status_id": direct["id"]}, 422),  # bob may see it, still not quotable
        ({"status": "x", "quoted_status_id": closed["id"]}, 422),
        ({"status": "x", "quoted_status_id": "999999999"}, 404),
        ({"status": "x", "quoted_status_id": "nope"}, 422),
        ({"status": "x", "quote_approval_policy": "everyone"}, 422),
    ]
    for body, status in cases:
        response = await bob_api.post("/api/v1/statuses", data=body)
        assert response.status == status, body
        assert set(await response.json()) == {"error"}
    carol_api, _ = await api_client(spark, aiohttp_client, "carol")
    response = await carol_api.post(
        "/api/v1/statuses", data={"status": "x", "quoted_status_id": private["id"]}
    )
    assert response.status == 404  # carol may not even see it
    assert await _count(spark) == before


async def test_the_default_quote_policy_is_a_setting(spark: Spark, aiohttp_client) -> None:
    alice_api, _ = await api_client(spark, aiohttp_client, "alice")
    response = await alice_api.patch(
        "/api/v1/accounts/update_credentials", data={"source[quote_policy]": "nobody"}
    )
    assert (await response.json())["source"]["quote_policy"] == "nobody"
    post = await (await alice_api.post("/api/v1/statuses", data={"status": "mine alone"})).json()
    assert post["quote_approval"]["automatic"] == []
    bad = await alice_api.patch("/api/v1/accounts/update_credentials", data={"source[quote_policy]": "all"})
    assert bad.status == 422
