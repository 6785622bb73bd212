"""Storing remote notes (`RemoteNotes.ingest`): once, and never after a delete."""

import pytest

from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Tombstone
from spark_fed.models.types import utcnow

from .peers import FakeMastodon


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
