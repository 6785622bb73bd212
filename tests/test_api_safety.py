"""Blocks, mutes, domain blocks and reports through the client API, on real instances on loopback,
and once through Mastodon.py (in a thread: it blocks, docs/decisions.md)."""

import asyncio
import json

from sqlmodel import select

from outbox import actions, posts
from spark_fed.models import Block, InboxItem, Mute, Report
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, eventually
from .test_mastodon_py import _sign_in, _with_password


async def _client(spark: Spark, aiohttp_client, name: str, scopes: str = "read write follow"):
    account = await spark.user(name)
    return await _token_client(spark, aiohttp_client, account, scopes), account


async def _token_client(spark: Spark, aiohttp_client, account, scopes: str = "read write follow"):
    token = await create_token(spark.db, account, parse_scopes(scopes))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client


async def _relationship(client, account_id: int) -> dict:
    [found] = await (
        await client.get("/api/v1/accounts/relationships", params={"id[]": str(account_id)})
    ).json()
    return found


async def test_block_mute_and_their_undo_change_relationships(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    bobs, bob = await _client(spark, aiohttp_client, "bob")
    ctx = spark.ctx
    await actions.follow(ctx, alice, bob.uri)
    await actions.follow(ctx, bob, alice.uri)
    before = await posts.post(ctx, bob, "before anything")

    async def home() -> list[str]:
        return [s["id"] for s in await (await client.get("/api/v1/timelines/home")).json()]

    assert await home() == [str(before.id)]
    resp = await client.post(f"/api/v1/accounts/{bob.id}/block")
    assert resp.status == 200, await resp.text()
    blocked = await resp.json()
    assert blocked["blocking"] is True and blocked["following"] is False and blocked["followed_by"] is False
    assert (await _relationship(bobs, alice.id))["blocked_by"] is True
    assert await home() == []
    resp = await client.get("/api/v1/blocks")
    assert [a["id"] for a in await resp.json()] == [str(bob.id)] and 'rel="next"' in resp.headers["Link"]
    resp = await client.get(
        "/api/v1/blocks", params={"max_id": resp.headers["Link"].split("max_id=")[1].split(">")[0]}
    )
    assert await resp.json() == []
    again = await client.post(f"/api/v1/accounts/{bob.id}/block")  # a repeated block is fine
    assert again.status == 200
    async with spark.db.read() as session:
        assert len((await session.exec(select(Block))).all()) == 1

    unblocked = await (await client.post(f"/api/v1/accounts/{bob.id}/unblock")).json()
    assert unblocked["blocking"] is False
    assert (await _relationship(bobs, alice.id))["blocked_by"] is False
    assert await (await client.get("/api/v1/blocks")).json() == []
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unblock")).status == 200  # not blocking: fine

    # A mute for an hour, keeping the notifications: nothing is sent, posts leave home.
    await actions.follow(ctx, alice, bob.uri)
    later = await posts.post(ctx, bob, "while muted")
    resp = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={"notifications": "false", "duration": "3600"}
    )
    assert resp.status == 200, await resp.text()
    muted = await resp.json()
    assert muted["muting"] is True and muted["muting_notifications"] is False and muted["following"] is True
    assert str(later.id) not in await home()
    [listed] = await (await client.get("/api/v1/mutes")).json()
    assert listed["id"] == str(bob.id) and listed["mute_expires_at"] is not None
    resp = await client.post(
        f"/api/v1/accounts/{bob.id}/mute",
        data=json.dumps({"notifications": True}),
        headers={"Content-Type": "application/json"},
    )  # muting again changes the mute: for ever now, notifications too
    assert (await resp.json())["muting_notifications"] is True
    [listed] = await (await client.get("/api/v1/mutes")).json()
    assert listed["mute_expires_at"] is None
    async with spark.db.read() as session:
        assert len((await session.exec(select(Mute))).all()) == 1
    unmuted = await (await client.post(f"/api/v1/accounts/{bob.id}/unmute")).json()
    assert unmuted["muting"] is False and unmuted["muting_notifications"] is False
    assert str(later.id) in await home()


async def test_block_and_mute_errors_and_scopes(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    bob = await spark.user("bob")
    reader = await _token_client(spark, aiohttp_client, bob, "read")
    follower = await _token_client(spark, aiohttp_client, bob, "follow")
    assert (await client.post(f"/api/v1/accounts/{alice.id}/block")).status == 422
    assert (await client.post(f"/api/v1/accounts/{alice.id}/mute")).status == 422
    assert (await client.post("/api/v1/accounts/999999/block")).status == 404
    assert (await client.post("/api/v1/accounts/99999999999999/mute")).status == 404
    for duration in ("soon", "-5", "99999999999999"):
        resp = await client.post(f"/api/v1/accounts/{bob.id}/mute", data={"duration": duration})
        assert resp.status == 422, duration
    assert (
        await client.post(f"/api/v1/accounts/{bob.id}/mute", data={"notifications": "maybe"})
    ).status == 422
    assert (await reader.post(f"/api/v1/accounts/{alice.id}/block")).status == 403
    assert (await reader.get("/api/v1/blocks")).status == 200
    # `follow`, Mastodon's older scope, covers blocks and mutes.
    assert (await follower.post(f"/api/v1/accounts/{alice.id}/block")).status == 200
    assert (await follower.get("/api/v1/mutes")).status == 200
    assert (await follower.post("/api/v1/domain_blocks", data={"domain": "example.social"})).status == 200
    async with spark.db.read() as session:
        assert [(b.account_id, b.target_account_id) for b in (await session.exec(select(Block))).all()] == [
            (bob.id, alice.id)
        ]


async def test_domain_blocks_list_relationship_and_undo(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    client, _alice = await _client(a, aiohttp_client, "alice")
    await b.user("bob")
    remote = await a.ctx.actors.by_handle_or_url(f"bob@{b.domain}")
    assert (await _relationship(client, remote.id))["domain_blocking"] is False
    resp = await client.post("/api/v1/domain_blocks", data={"domain": b.domain})
    assert resp.status == 200 and await resp.json() == {}
    await client.post("/api/v1/domain_blocks", data={"domain": "Spam.Example"})
    resp = await client.get("/api/v1/domain_blocks")
    assert await resp.json() == ["spam.example", b.domain] and "Link" in resp.headers
    assert (await _relationship(client, remote.id))["domain_blocking"] is True
    resp = await client.delete("/api/v1/domain_blocks", data={"domain": b.domain})
    assert resp.status == 200 and await resp.json() == {}
    assert (await client.delete("/api/v1/domain_blocks", params={"domain": "spam.example"})).status == 200
    assert await (await client.get("/api/v1/domain_blocks")).json() == []
    assert (await _relationship(client, remote.id))["domain_blocking"] is False
    for bad in ("", "   ", "not a domain", a.domain):
        assert (await client.post("/api/v1/domain_blocks", data={"domain": bad})).status == 422, bad
    assert (await client.delete("/api/v1/domain_blocks")).status == 422


async def test_reports_are_stored_and_forwarded_when_asked(start_spark, aiohttp_client) -> None:
    a, b = await start_spark(), await start_spark()
    client, alice = await _client(a, aiohttp_client, "alice")
    carol = await a.user("carol")
    await b.user("bob")
    spam = await posts.post(a.ctx, carol, "buy now")
    mine = await posts.post(a.ctx, alice, "my own post")
    resp = await client.post(
        "/api/v1/reports",
        data={
            "account_id": str(carol.id),
            "status_ids[]": [str(spam.id)],
            "category": "spam",
            "comment": "ads",
        },
    )
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["category"] == "spam" and report["comment"] == "ads" and report["forwarded"] is False
    assert report["status_ids"] == [str(spam.id)] and report["target_account"]["id"] == str(carol.id)
    assert report["action_taken"] is False
    async with a.db.read() as session:
        [row] = (await session.exec(select(Report))).all()
    assert (row.account_id, row.target_account_id, row.status_ids) == (alice.id, carol.id, str(spam.id))

    for body, status in (
        ({"account_id": str(carol.id), "status_ids[]": [str(mine.id)]}, 422),  # not carol's
        ({"account_id": str(carol.id), "category": "rude"}, 422),
        ({"account_id": str(carol.id), "rule_ids[]": ["1"]}, 422),  # this instance has no rules
        ({"account_id": str(carol.id), "status_ids[]": ["x"]}, 422),
        ({"account_id": str(alice.id)}, 422),  # oneself
        ({"account_id": "99999"}, 404),
        ({}, 422),
    ):
        resp = await client.post("/api/v1/reports", data=body)
        assert resp.status == status, (body, await resp.text())
    async with a.db.read() as session:
        assert len((await session.exec(select(Report))).all()) == 1  # nothing half-stored

    remote = await a.ctx.actors.by_handle_or_url(f"bob@{b.domain}")
    resp = await client.post(
        "/api/v1/reports",
        data=json.dumps({"account_id": str(remote.id), "comment": "harassment", "forward": True}),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["forwarded"] is True

    async def flag_arrived() -> bool:
        async with b.db.read() as session:
            rows = (await session.exec(select(InboxItem))).all()
        return any(r.actor_uri == a.ctx.instance_actor.uri for r in rows)

    await eventually(flag_arrived, what="the Flag at bob's server, signed by alice's instance")


async def test_mastodon_py_blocks_mutes_filters_and_reports(spark: Spark) -> None:
    await _with_password(spark, "alice")
    await _with_password(spark, "bob")
    alice = await asyncio.to_thread(_sign_in, spark.base, "alice")
    bob = await asyncio.to_thread(_sign_in, spark.base, "bob")
    bob_id = (await asyncio.to_thread(bob.account_verify_credentials))["id"]
    await asyncio.to_thread(alice.account_follow, bob_id)
    old = await asyncio.to_thread(bob.status_post, "spoilers for the finale")

    relationship = await asyncio.to_thread(alice.account_block, bob_id)
    assert relationship["blocking"] is True
    assert [a["id"] for a in await asyncio.to_thread(alice.blocks)] == [bob_id]
    await asyncio.to_thread(alice.account_unblock, bob_id)
    relationship = await asyncio.to_thread(alice.account_mute, bob_id, notifications=False, duration=600)
    assert relationship["muting"] is True and relationship["muting_notifications"] is False
    [relationship] = await asyncio.to_thread(alice.account_relationships, bob_id)
    assert relationship["muting"] is True and relationship["blocking"] is False
    assert [a["id"] for a in await asyncio.to_thread(alice.mutes)] == [bob_id]
    await asyncio.to_thread(alice.account_unmute, bob_id)

    await asyncio.to_thread(alice.account_follow, bob_id)  # the block ended the follow
    new = await asyncio.to_thread(bob.status_post, "the finale, again")
    made = await asyncio.to_thread(
        alice.create_filter_v2, "TV", ["home"], "hide", None, [{"keyword": "finale", "whole_word": True}]
    )
    assert made["filter_action"] == "hide" and made["keywords"][0]["keyword"] == "finale"
    home = [s["id"] for s in await asyncio.to_thread(alice.timeline_home)]
    assert old["id"] not in home and new["id"] not in home
    public = [s["id"] for s in await asyncio.to_thread(alice.timeline_public)]
    assert old["id"] in public and new["id"] in public
    assert [f["id"] for f in await asyncio.to_thread(alice.filters_v2)] == [made["id"]]
    await asyncio.to_thread(alice.delete_filter_v2, made["id"])
    assert new["id"] in [s["id"] for s in await asyncio.to_thread(alice.timeline_home)]

    report = await asyncio.to_thread(alice.report, bob_id, [old["id"]], "spoilers", category="other")
    assert report["status_ids"] == [old["id"]] and report["comment"] == "spoilers"
    async with spark.db.read() as session:
        assert len((await session.exec(select(Report))).all()) == 1
    await asyncio.to_thread(alice.domain_block, "spam.example")
    assert await asyncio.to_thread(alice.domain_blocks) == ["spam.example"]
    await asyncio.to_thread(alice.domain_unblock, "spam.example")
    assert await asyncio.to_thread(alice.domain_blocks) == []
