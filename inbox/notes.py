"""Handlers for notes and the interactions with them: Create, Update, Delete, Announce, Like, Undo."""

import logging
from typing import Any

from sqlmodel import select

from spark_fed.activitystreams import as_list
from spark_fed.context import Context
from spark_fed.federation.documents import id_of, same_origin
from spark_fed.federation.notes import NoteRejected, visibility_of
from spark_fed.models import Account, Favourite, Status, Tombstone, Visibility
from spark_fed.models.types import utcnow
from spark_fed.queries.statuses import find_status, has_local_follower
from spark_fed.quotes import quoted_uri_of
from spark_fed.statuses import remove_favourite, remove_status, store_boost, store_favourite

from . import quotes
from .votes import take_vote

log = logging.getLogger(__name__)


async def create(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    """A note is kept when someone here follows its author, it names someone here, or it
    replies to a post of ours; anything else unsolicited is dropped. A vote on a local poll is
    counted, never stored as a reply."""
    note = activity.get("object")
    if await take_vote(ctx, actor, note):
        return
    if isinstance(note, str) and same_origin(note, actor.uri) and await _followed(ctx, actor):
        await _fetch_and_store(ctx, note)
        return
    if not isinstance(note, dict) or not await _concerns_us(ctx, actor, note):
        return
    try:
        stored = await ctx.notes.ingest(note, sender=actor)
    except NoteRejected as exc:
        log.info("Create from %s dropped: %s", actor.uri, exc)
        return
    if quoted_uri_of(note) is not None:
        await quotes.check_stored(ctx, stored.uri)


async def update_note(ctx: Context, actor: Account, note: dict[str, Any]) -> None:
    try:
        await ctx.notes.update(note, actor)
    except NoteRejected as exc:
        log.info("Update from %s dropped: %s", actor.uri, exc)
        return
    await quotes.refresh(ctx, actor, note)


async def delete_note(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    """Only the author deletes; an id on the author's server is remembered so it never comes back."""
    uri = id_of(activity.get("object"))
    if uri is None or not same_origin(uri, actor.uri):
        return
    async with ctx.db.write() as session:
        status = await find_status(session, uri)
        if status is not None and status.account_id == actor.id:
            await remove_status(session, status)
        elif status is None:
            tombstone = await session.get(Tombstone, uri)
            if tombstone is None:
                session.add(Tombstone(uri=uri[:2048], deleted_at=utcnow()))


async def announce(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    boost_id = activity.get("id")
    target = id_of(activity.get("object"))
    if not isinstance(boost_id, str) or target is None or not same_origin(boost_id, actor.uri):
        return
    local_note = ctx.actors.is_local(target)
    if not local_note and not await _followed(ctx, actor):
        return
    try:
        original = await ctx.notes.get(target)  # fetched from its origin, never trusted inline
    except NoteRejected as exc:
        log.info("Announce from %s dropped: %s", actor.uri, exc)
        return
    if original.reblog_of_id is not None or original.visibility not in (
        Visibility.PUBLIC,
        Visibility.UNLISTED,
    ):
        return
    async with ctx.db.write() as session:
        if await find_status(session, boost_id) is not None:
            return
        boost = Status(
            uri=boost_id,
            account_id=actor.id,
            visibility=visibility_of(activity, actor),
            reblog_of_id=original.id,
        )
        await store_boost(session, boost, actor, original)


async def like(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    like_id = activity.get("id")
    target = id_of(activity.get("object"))
    if not isinstance(like_id, str) or target is None or not ctx.actors.is_local(target):
        return  # only likes of our own posts are counted, as Mastodon does
    async with ctx.db.write() as session:
        status = await find_status(session, target)
        if status is not None and status.reblog_of_id is None:
            await store_favourite(session, actor, status, like_id[:2048])


async def undo_interaction(ctx: Context, actor: Account, inner: Any) -> bool:
    """Undo of a Like or an Announce, embedded or by id; False if it was neither."""
    undone = id_of(inner)
    kind = inner.get("type") if isinstance(inner, dict) else None
    async with ctx.db.write() as session:
        if kind in (None, "Like"):
            favourite = await _favourite(session, actor, inner, undone)
            if favourite is not None:
                await remove_favourite(session, favourite)
                return True
        if kind in (None, "Announce") and undone:
            boost = (
                await session.exec(select(Status).where(Status.uri == undone, Status.account_id == actor.id))
            ).first()
            if boost is not None and boost.reblog_of_id is not None:
                await remove_status(session, boost)
                return True
    return kind in ("Like", "Announce")


async def _favourite(session: Any, actor: Account, inner: Any, undone: str | None) -> Favourite | None:
    if undone:
        found = (
            await session.exec(
                select(Favourite).where(Favourite.uri == undone, Favourite.account_id == actor.id)
            )
        ).first()
        if found is not None:
            return found
    if isinstance(inner, dict) and (target := id_of(inner.get("object"))):
        status = await find_status(session, target)
        if status is not None:
            query = select(Favourite).where(
                Favourite.account_id == actor.id, Favourite.status_id == status.id
            )
            return (await session.exec(query)).first()
    return None


async def _followed(ctx: Context, actor: Account) -> bool:
    async with ctx.db.read() as session:
        return await has_local_follower(session, actor.id)


async def _concerns_us(ctx: Context, actor: Account, note: dict[str, Any]) -> bool:
    """What the note itself says is checked before the database is asked about the author."""
    return _names_us(ctx, note) or await _followed(ctx, actor)


def _names_us(ctx: Context, note: dict[str, Any]) -> bool:
    """Addressed to, mentioning or replying to someone or something here."""
    addressed = [id_of(v) for v in (*as_list(note.get("to")), *as_list(note.get("cc")))]
    mentioned = [
        tag.get("href")
        for tag in as_list(note.get("tag"))
        if isinstance(tag, dict) and tag.get("type") == "Mention"
    ]
    if any(isinstance(uri, str) and ctx.actors.is_local(uri) for uri in (*addressed, *mentioned)):
        return True
    parent = id_of(note.get("inReplyTo"))
    if parent is not None and ctx.actors.is_local(parent):
        return True
    quoted = quoted_uri_of(note)  # a quote of one of our posts: its author should see it
    return quoted is not None and ctx.actors.is_local(quoted)


async def _fetch_and_store(ctx: Context, uri: str) -> None:
    try:
        await ctx.notes.get(uri)
    except NoteRejected as exc:
        log.info("fetching %s dropped: %s", uri, exc)
        return
    await quotes.check_stored(ctx, uri)
