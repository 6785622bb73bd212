"""Storing remote notes (`RemoteNotes.ingest`): once, never after a delete, whatever their ids draw."""

import pytest

from spark_fed.federation import notes as remote_notes
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Status, Tombstone
from spark_fed.models.types import utcnow

from .peers import FakeMastodon


async def test_a_colliding_snowflake_is_drawn_again(spark, aiohttp_server, monkeypatch) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    first = await spark.ctx.notes.ingest(peer.create_note("bob", "one")["object"])
    drawn = iter([first.id])  # the next note draws the first one's id, then a fresh one
    real = remote_notes.snowflake
    monkeypatch.setattr(remote_notes, "snowflake", lambda moment=None: next(drawn, None) or real(moment))

    second = await spark.ctx.notes.ingest(peer.create_note("bob", "two")["object"])

    assert second.id != first.id
    async with spark.db.read() as session:
        assert (await session.get(Status, second.id)).content.endswith("two</p>")
        assert (await session.get(Status, first.id)).content.endswith("one</p>")


async def test_a_note_is_stored_once_and_never_after_its_delete(spark, aiohttp_server) -> None:
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    note = peer.create_note("bob", "hello")["object"]
    stored = await spark.ctx.notes.ingest(note)
    assert (await spark.ctx.notes.ingest(note)).id == stored.id

    deleted = peer.create_note("bob", "gone")["object"]
    async with spark.db.write() as session:
        session.add(Tombstone(uri=deleted["id"], deleted_at=utcnow()))
    with pytest.raises(NoteRejected, match="was deleted"):
        await spark.ctx.notes.ingest(deleted)
