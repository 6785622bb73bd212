"""Edit history: every edit, local or remote, keeps the revision it replaces (docs/posts.md)."""

import asyncio
import json

import aiohttp
from mastodon import Mastodon
from sqlalchemy import func
from sqlmodel import select

from outbox import posts
from spark_fed import edits
from spark_fed.models import Notification, Poll, Status, StatusEdit
from spark_fed.polls import PollSpec

from .conftest import Spark, eventually
from .peers import FakeMastodon
from .test_api_media import image_bytes
from .test_mastodon_posts import _follow_peer
from .test_mastodon_py import _sign_in, _with_password


async def _history(spark: Spark, status_id: int) -> list[dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{spark.base}/api/v1/statuses/{status_id}/history") as r,
    ):
        assert r.status == 200
        return await r.json()


async def test_mastodon_py_edits_and_reads_history_and_source(spark: Spark) -> None:
    await _with_password(spark, "alice")
    await _with_password(spark, "bob")
    alice: Mastodon = await asyncio.to_thread(_sign_in, spark.base, "alice")
    bob: Mastodon = await asyncio.to_thread(_sign_in, spark.base, "bob")

    posted = await asyncio.to_thread(alice.status_post, "first words")
    never_edited = await asyncio.to_thread(alice.status_history, posted["id"])
    assert [r["content"] for r in never_edited] == [posted["content"]]
    assert posted["edited_at"] is None
    await asyncio.to_thread(bob.status_reblog, posted["id"])

    await asyncio.to_thread(alice.status_update, posted["id"], "second words", spoiler_text="careful")
    edited = await asyncio.to_thread(
        alice.status_update, posted["id"], "third words", spoiler_text="", sensitive=True
    )
    assert edited["edited_at"] is not None and "third words" in edited["content"]

    history = await asyncio.to_thread(alice.status_history, posted["id"])
    assert [("words" in r["content"] and r["content"].split()[0]) for r in history] == [
        "<p>first",
        "<p>second",
        "<p>third",
    ]
    assert [r["spoiler_text"] for r in history] == ["", "careful", ""]
    assert [r["sensitive"] for r in history] == [False, True, True]
    assert history[0]["created_at"] == posted["created_at"]
    assert history[-1]["created_at"] == edited["edited_at"]
    assert all(r["account"]["acct"] == "alice" and r["emojis"] == [] for r in history)

    media = await asyncio.to_thread(alice.media_post, image_bytes(), "image/png", description="a square")
    pictured = await asyncio.to_thread(alice.status_post, "a picture", media_ids=[media["id"]])
    attributes = [{"id": media["id"], "description": "a blue square"}]
    await asyncio.to_thread(alice.status_update, pictured["id"], "a picture", media_attributes=attributes)
    described = await asyncio.to_thread(alice.status_history, pictured["id"])
    assert [[m["description"] for m in r["media_attachments"]] for r in described] == [
        ["a square"],
        ["a blue square"],
    ]

    source = await asyncio.to_thread(alice.status_source, posted["id"])
    assert (source["id"], source["text"], source["spoiler_text"]) == (posted["id"], "third words", "")

    # The source is the author's alone; the history is anyone's who may see the post.
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {bob.access_token}"}
        async with http.get(f"{spark.base}/api/v1/statuses/{posted['id']}/source", headers=headers) as r:
            assert r.status == 404
        async with http.get(f"{spark.base}/api/v1/statuses/{posted['id']}/history") as r:
            assert r.status == 200 and len(await r.json()) == 3
    kinds = [n["type"] for n in await asyncio.to_thread(bob.notifications)]
    assert kinds.count("update") == 2


async def test_history_of_a_post_one_may_not_see_is_404(spark: Spark) -> None:
    alice = await spark.user("alice")
    hidden = await posts.post(spark.ctx, alice, "for my followers", visibility="followers")
    await posts.edit(spark.ctx, alice, hidden.uri, "for my followers, edited")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{spark.base}/api/v1/statuses/{hidden.id}/history") as r:
            assert r.status == 404 and (await r.json()) == {"error": "Record not found"}
        async with http.get(f"{spark.base}/api/v1/statuses/999999/history") as r:
            assert r.status == 404


async def test_history_keeps_the_original_and_a_bounded_number_of_revisions(spark: Spark) -> None:
    alice = await spark.user("alice")
    status = await posts.post(spark.ctx, alice, "edit 0")
    for n in range(1, edits.MAX_KEPT + 6):
        await posts.edit(spark.ctx, alice, status.uri, f"edit {n}")
    async with spark.db.read() as session:
        kept = (
            await session.exec(
                select(StatusEdit.content)
                .where(StatusEdit.status_id == status.id)
                .order_by(StatusEdit.created_at, StatusEdit.id)
            )
        ).all()
    assert len(kept) == edits.MAX_KEPT
    assert "edit 0" in kept[0]  # the original stays
    assert "edit 6" in kept[1] and f"edit {edits.MAX_KEPT + 4}" in kept[-1]
    history = await _history(spark, status.id)
    assert len(history) == edits.MAX_KEPT + 1
    assert f"edit {edits.MAX_KEPT + 5}" in history[-1]["content"]


async def test_image_descriptions_are_kept_as_they_were(spark: Spark) -> None:
    alice = await spark.user("alice")
    upload = await spark.ctx.media.upload(alice, image_bytes(), description="a red square")
    status = await posts.post(spark.ctx, alice, "look", media_ids=[upload.id])
    await posts.edit(spark.ctx, alice, status.uri, "look again", descriptions={upload.id: "a crimson square"})
    history = await _history(spark, status.id)
    assert [[m["description"] for m in r["media_attachments"]] for r in history] == [
        ["a red square"],
        ["a crimson square"],
    ]


async def test_a_remote_edit_from_mastodon_keeps_history(spark: Spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    await _follow_peer(spark, peer)
    create = peer.create_note("bob", "before the edit")
    note_id = create["object"]["id"]
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202

    async def stored() -> Status | None:
        async with spark.db.read() as session:
            return (await session.exec(select(Status).where(Status.uri == note_id))).first()

    status = await eventually(stored, what="bob's note to be stored")
    update = peer.update_note("bob", note_id, "after the edit", summary="spoilers")
    assert (await peer.send(update, f"{spark.base}/inbox", "bob")).status == 202

    async def edited() -> Status | None:
        found = await stored()
        return found if found is not None and found.edited_at is not None else None

    await eventually(edited, what="bob's edit to be applied")
    # A replayed Update changes nothing and adds no revision.
    assert (await peer.send(update, f"{spark.base}/inbox", "bob")).status == 202
    history = await _history(spark, status.id)
    assert ["before" in history[0]["content"], "after" in history[1]["content"]] == [True, True]
    assert [r["spoiler_text"] for r in history] == ["", "spoilers"]
    async with spark.db.read() as session:
        count = select(func.count()).select_from(StatusEdit)
        assert (await session.exec(count)).one() == 1
        assert (await session.exec(select(Notification))).all() == []


async def test_a_remote_poll_whose_options_change_keeps_both_option_sets(
    spark: Spark, aiohttp_server
) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    await _follow_peer(spark, peer)
    create = peer.create_question("bob", "Best season?", ["Spring", "Autumn"])
    question_id = create["object"]["id"]
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202

    async def stored() -> Status | None:
        async with spark.db.read() as session:
            return (await session.exec(select(Status).where(Status.uri == question_id))).first()

    status = await eventually(stored, what="bob's poll to be stored")
    assert [r["poll"] for r in await _history(spark, status.id)] == [
        {"options": [{"title": "Spring"}, {"title": "Autumn"}]}
    ]

    edit = peer.edit_question("bob", question_id, ["Summer", "Winter", "Spring"])
    assert (await peer.send(edit, f"{spark.base}/inbox", "bob")).status == 202

    async def edited() -> list[dict] | None:
        history = await _history(spark, status.id)
        return history if len(history) == 2 else None

    history = await eventually(edited, what="bob's changed options to be kept as a revision")
    assert [[o["title"] for o in r["poll"]["options"]] for r in history] == [
        ["Spring", "Autumn"],
        ["Summer", "Winter", "Spring"],
    ]

    # New counts are no edit: the poll changes, its history does not.
    counts = peer.update_question("bob", question_id, [3, 1, 2], 6)
    assert (await peer.send(counts, f"{spark.base}/inbox", "bob")).status == 202

    async def counted() -> bool:
        async with spark.db.read() as session:
            poll = await session.get(Poll, status.id)
            return poll is not None and poll.tallies == [3, 1, 2]

    await eventually(counted, what="the counts-only Update to be applied")
    assert await _history(spark, status.id) == history
    async with spark.db.read() as session:
        count = select(func.count()).select_from(StatusEdit).where(StatusEdit.status_id == status.id)
        assert (await session.exec(count)).one() == 1

    # Options changed without a newer `updated` start the poll afresh all the same: kept too.
    unedited = peer.update_question("bob", question_id, [0, 0, 0], 0)
    unedited["id"] += "-options"
    unedited["object"]["oneOf"] = unedited["object"]["oneOf"][:2]
    assert (await peer.send(unedited, f"{spark.base}/inbox", "bob")).status == 202

    async def replaced() -> list[dict] | None:
        found = await _history(spark, status.id)
        return found if len(found) == 3 else None

    history = await eventually(replaced, what="options changed without an edit to be kept")
    assert [[o["title"] for o in r["poll"]["options"]] for r in history] == [
        ["Spring", "Autumn"],
        ["Summer", "Winter", "Spring"],
        ["Summer", "Winter"],
    ]

    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{spark.base}/web/statuses/{status.id}/history") as r,
    ):
        assert r.status == 200
        page = await r.text()
    assert page.count('class="revision-poll"') == 3
    assert "<li>Autumn</li>" in page and "<li>Summer</li>" in page


async def test_a_local_edit_keeps_the_poll_options_and_a_post_without_poll_has_none(spark: Spark) -> None:
    alice = await spark.user("alice")
    asked = await posts.post(spark.ctx, alice, "Tea or coffee?", poll=PollSpec(["Tea", "Coffee"], 3600))
    await posts.edit(spark.ctx, alice, asked.uri, "Tea or coffee, today?")
    async with spark.db.read() as session:
        kept = (await session.exec(select(StatusEdit.poll).where(StatusEdit.status_id == asked.id))).all()
    assert [json.loads(p) for p in kept] == [{"options": [{"title": "Tea"}, {"title": "Coffee"}]}]
    assert [r["poll"] for r in await _history(spark, asked.id)] == [
        {"options": [{"title": "Tea"}, {"title": "Coffee"}]}
    ] * 2
    plain = await posts.post(spark.ctx, alice, "no question")
    await posts.edit(spark.ctx, alice, plain.uri, "still no question")
    assert [r["poll"] for r in await _history(spark, plain.id)] == [None, None]
