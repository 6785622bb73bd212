"""Polls through the client API: creating, reading, voting, hidden totals and bad input."""

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from spark_fed.models import Notification, Poll, PollJob, PollVote, Status
from spark_fed.models.types import utcnow

from .api_clients import api_client
from .conftest import Spark, eventually
from .rows import count_rows
from .test_mastodon_py import _sign_in, _with_password


async def test_a_poll_is_created_read_and_voted_on(spark: Spark, aiohttp_client) -> None:
    alices, _alice = await api_client(spark, aiohttp_client, "alice")
    bobs, _bob = await api_client(spark, aiohttp_client, "bob")
    form = [
        ("status", "Tea or coffee?"),
        ("poll[options][]", "Tea"),
        ("poll[options][]", "Coffee"),
        ("poll[expires_in]", "3600"),
    ]
    resp = await alices.post("/api/v1/statuses", data=form)
    assert resp.status == 200, await resp.text()
    status = await resp.json()
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["Tea", "Coffee"]
    assert poll["multiple"] is False and poll["expired"] is False and poll["voted"] is True
    assert poll["votes_count"] == 0 and poll["own_votes"] == []
    resp = await bobs.post(f"/api/v1/polls/{poll['id']}/votes", data=[("choices[]", "1")])
    assert resp.status == 200, await resp.text()
    voted = await resp.json()
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    assert voted["votes_count"] == 1 and voted["voters_count"] == 1
    for choices, why in (([0], "a second vote"), ([5], "out of range")):
        again = await bobs.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": choices})
        assert again.status == 422, why
    assert (await alices.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [0]})).status == 422
    seen = await (await bobs.get(f"/api/v1/statuses/{status['id']}")).json()
    assert seen["poll"]["own_votes"] == [1]
    anonymous = await (await aiohttp_client(spark.server)).get(f"/api/v1/polls/{poll['id']}")
    entity = await anonymous.json()
    assert "voted" not in entity and entity["options"][1]["votes_count"] == 1


async def test_multiple_choice_and_hidden_totals(spark: Spark, aiohttp_client) -> None:
    alices, _alice = await api_client(spark, aiohttp_client, "alice")
    bobs, _bob = await api_client(spark, aiohttp_client, "bob")
    body = {
        "status": "Pick any",
        "poll": {"options": ["A", "B", "C"], "expires_in": 600, "multiple": True, "hide_totals": True},
    }
    status = await (await alices.post("/api/v1/statuses", json=body)).json()
    poll_id = status["poll"]["id"]
    single = await bobs.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": ["0", "2"]})
    assert single.status == 200
    entity = await single.json()
    assert entity["multiple"] is True and entity["own_votes"] == [0, 2]
    assert [o["votes_count"] for o in entity["options"]] == [None, None, None]
    assert entity["votes_count"] == 2 and entity["voters_count"] == 1
    own = await (await alices.get(f"/api/v1/polls/{poll_id}")).json()
    assert [o["votes_count"] for o in own["options"]] == [1, 0, 1]


async def test_one_choice_only_on_a_single_choice_poll(spark: Spark, aiohttp_client) -> None:
    alices, _ = await api_client(spark, aiohttp_client, "alice")
    bobs, _ = await api_client(spark, aiohttp_client, "bob")
    body = {"status": "One", "poll": {"options": ["A", "B"], "expires_in": 600}}
    status = await (await alices.post("/api/v1/statuses", json=body)).json()
    resp = await bobs.post(f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [0, 1]})
    assert resp.status == 422
    assert await count_rows(spark, PollVote) == 0


async def test_bad_polls_are_refused_and_nothing_is_stored(spark: Spark, aiohttp_client) -> None:
    alices, _ = await api_client(spark, aiohttp_client, "alice")
    bad = [
        {"options": ["only one"], "expires_in": 600},
        {"options": [f"option {i}" for i in range(50)], "expires_in": 600},
        {"options": ["A", "B"], "expires_in": -60},
        {"options": ["A", "B"], "expires_in": 60},
        {"options": ["A", "B"], "expires_in": 10 * 365 * 86400},
        {"options": ["A", "A"], "expires_in": 600},
        {"options": ["A", ""], "expires_in": 600},
        {"options": ["A", "x" * 51], "expires_in": 600},
        {"options": "A", "expires_in": 600},
        {"options": ["A", "B"], "expires_in": "soon"},
        {"options": ["A", "B"]},
    ]
    for poll in bad:
        resp = await alices.post("/api/v1/statuses", json={"status": "bad poll", "poll": poll})
        assert resp.status == 422, poll
        assert "error" in await resp.json()
    form = [("status", "one option"), ("poll[options][]", "A"), ("poll[expires_in]", "600")]
    assert (await alices.post("/api/v1/statuses", data=form)).status == 422
    assert await count_rows(spark, Status) == 0 and await count_rows(spark, Poll) == 0


async def test_the_end_of_a_poll_notifies_the_author_and_voters(spark: Spark, aiohttp_client) -> None:
    alices, alice = await api_client(spark, aiohttp_client, "alice")
    bobs, bob = await api_client(spark, aiohttp_client, "bob")
    body = {"status": "Quick one", "poll": {"options": ["Yes", "No"], "expires_in": 300}}
    status = await (await alices.post("/api/v1/statuses", json=body)).json()
    assert (
        await bobs.post(f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [0]})
    ).status == 200
    async with spark.db.write() as session:  # the five minutes pass
        await session.exec(update(Poll).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.exec(update(PollJob).values(next_attempt_at=utcnow()))

    async def notified() -> list[tuple[int, str]]:
        async with spark.db.read() as session:
            rows = (await session.exec(select(Notification.account_id, Notification.type))).all()
        return sorted(r for r in rows if r[1] == "poll")

    assert await eventually(notified, what="poll notifications") == sorted(
        [(alice.id, "poll"), (bob.id, "poll")]
    )
    mine = await (await bobs.get("/api/v1/notifications")).json()
    [ended] = [n for n in mine if n["type"] == "poll"]
    assert ended["status"]["poll"]["expired"] is True and ended["account"]["id"] == str(alice.id)
    carols, _carol = await api_client(spark, aiohttp_client, "carol")
    late = await carols.post(f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [1]})
    assert late.status == 422 and "ended" in (await late.json())["error"]


async def test_mastodon_py_creates_a_poll_and_votes(spark: Spark) -> None:
    """The real client library: `make_poll` + `status_post(poll=…)`, `poll_vote`, `poll`."""
    await _with_password(spark, "alice")
    await _with_password(spark, "bob")
    alice = await asyncio.to_thread(_sign_in, spark.base, "alice")
    bob = await asyncio.to_thread(_sign_in, spark.base, "bob")

    def ask() -> dict:
        poll = alice.make_poll(["Mountains", "Sea", "City"], expires_in=3600, multiple=True)
        return alice.status_post("Holidays?", poll=poll)

    status = await asyncio.to_thread(ask)
    assert [o["title"] for o in status["poll"]["options"]] == ["Mountains", "Sea", "City"]
    voted = await asyncio.to_thread(bob.poll_vote, status["poll"]["id"], [1, 2])
    assert voted["own_votes"] == [1, 2] and voted["voters_count"] == 1
    seen = await asyncio.to_thread(alice.poll, status["poll"]["id"])
    assert [o["votes_count"] for o in seen["options"]] == [0, 1, 1]
    instance = await asyncio.to_thread(alice.instance)
    assert instance["configuration"]["polls"]["max_options"] == 4


async def test_the_end_of_a_poll_survives_a_restart(start_spark, aiohttp_client) -> None:
    first = await start_spark()
    alices, alice = await api_client(first, aiohttp_client, "alice")
    body = {"status": "Still there?", "poll": {"options": ["Yes", "No"], "expires_in": 300}}
    await (await alices.post("/api/v1/statuses", json=body)).json()
    async with first.db.write() as session:  # the poll ends while the server is down
        await session.exec(update(Poll).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.exec(update(PollJob).values(next_attempt_at=utcnow() + timedelta(seconds=1)))
    await first.stop()
    second = await start_spark(first.config)

    async def notified() -> bool:
        async with second.db.read() as session:
            found = await session.exec(select(Notification).where(Notification.account_id == alice.id))
            return [n.type for n in found.all()] == ["poll"]

    await eventually(notified, what="the restarted server to end the poll")
