"""Quotes from other servers: requests to quote our posts, answers to ours, withdrawn stamps, and
the check of a remote quote's stamp (`QuoteAuthorization`) before it is shown as approved.

The check runs here, in the inbox queue's job (a durable background job), through the signed,
guarded fetch: the stamp must be a `QuoteAuthorization` on the quoted author's server,
attributed to that author, naming the quoting post as `interactingObject` and the quoted post
as `interactionTarget`. A stamp that fails any of it leaves the quote `unauthorized`.
"""

import logging
from typing import Any

from sqlmodel import select

import outbox.quotes
from spark_fed.activitystreams import as_list
from spark_fed.context import Context
from spark_fed.federation.actors import ActorNotFound
from spark_fed.federation.documents import id_of, same_origin
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Account, Quote, QuoteState, Status
from spark_fed.quotes import authorization_of, notify_quoted, set_state

log = logging.getLogger(__name__)


async def quote_request(ctx: Context, actor: Account, activity: dict[str, Any]) -> None:
    request_id = activity.get("id")
    if not isinstance(request_id, str) or not same_origin(request_id, actor.uri):
        return
    await outbox.quotes.answer_request(ctx, actor, activity)


async def answer(ctx: Context, actor: Account, activity: dict[str, Any], *, accepted: bool) -> bool:
    """An Accept or Reject of a QuoteRequest we sent; False when it answers something else."""
    return await outbox.quotes.settle_request(ctx, actor, activity, accepted=accepted)


async def withdraw(ctx: Context, actor: Account, activity: dict[str, Any]) -> bool:
    """A `Delete` of a stamp by the author who issued it: the quotes it approved are revoked.
    False when the Delete names no stamp we know."""
    uri = id_of(activity.get("object"))
    if uri is None:
        return False
    async with ctx.db.write() as session:
        rows = list((await session.exec(select(Quote).where(Quote.authorization_uri == uri))).all())
        for quote in rows:
            if quote.quoted_account_id == actor.id and same_origin(uri, actor.uri):
                set_state(quote, QuoteState.REVOKED)
                session.add(quote)
    return bool(rows)


async def check_stored(ctx: Context, uri: str) -> None:
    """Check the stamp of the stored remote post URI, if it quotes something and is unchecked."""
    async with ctx.db.read() as session:
        status = (await session.exec(select(Status).where(Status.uri == uri))).first()
        quote = (
            (await session.exec(select(Quote).where(Quote.status_id == status.id))).first()
            if status
            else None
        )
        if (
            status is None
            or quote is None
            or quote.state != QuoteState.PENDING
            or not quote.authorization_uri
        ):
            return
        quoted = await session.get(Status, quote.quoted_status_id) if quote.quoted_status_id else None
    if quoted is None:
        quoted = await _link_quoted(ctx, quote)
    if quoted is None:
        return  # what it quotes cannot be had: it stays pending
    async with ctx.db.read() as session:
        quoted_author = await session.get(Account, quoted.account_id)
    if quoted_author is None:
        return
    stamp = quote.authorization_uri
    valid = await _stamp_holds(ctx, stamp, status, quoted, quoted_author)
    async with ctx.db.write() as session:
        fresh = await session.get(Quote, quote.id)
        if fresh is None or fresh.state != QuoteState.PENDING or fresh.authorization_uri != stamp:
            return
        set_state(fresh, QuoteState.ACCEPTED if valid else QuoteState.UNAUTHORIZED)
        session.add(fresh)
        if valid:
            await notify_quoted(session, fresh)


async def _link_quoted(ctx: Context, quote: Quote) -> Status | None:
    """The quoted post, fetched now when it could not be when the quote arrived, and linked."""
    try:
        quoted = await ctx.notes.get(quote.quoted_uri)
    except NoteRejected as exc:
        log.info("quoted post %s not stored: %s", quote.quoted_uri, exc)
        return None
    if quoted.reblog_of_id is not None:
        return None
    async with ctx.db.write() as session:
        fresh = await session.get(Quote, quote.id)
        if fresh is not None and fresh.quoted_status_id is None:
            fresh.quoted_status_id, fresh.quoted_account_id = quoted.id, quoted.account_id
            session.add(fresh)
    return quoted


async def refresh(ctx: Context, actor: Account, note: dict[str, Any]) -> None:
    """An `Update` of a remote quoting post that now carries a (new) stamp: checked again."""
    uri = note.get("id")
    stamp = authorization_of(note)
    if not isinstance(uri, str) or stamp is None:
        return
    async with ctx.db.write() as session:
        status = (await session.exec(select(Status).where(Status.uri == uri))).first()
        if status is None or status.account_id != actor.id:
            return
        quote = (await session.exec(select(Quote).where(Quote.status_id == status.id))).first()
        if quote is None or quote.authorization_uri == stamp or quote.state == QuoteState.REVOKED:
            return
        set_state(quote, QuoteState.PENDING, authorization_uri=stamp)
        session.add(quote)
    await check_stored(ctx, uri)


async def _stamp_holds(
    ctx: Context, stamp: str, status: Status, quoted: Status, quoted_author: Account
) -> bool:
    if ctx.actors.is_local(stamp):
        # A stamp of ours is valid only as issued: then the quote was already marked approved.
        log.info("quote %s names a stamp of ours that was never issued for it", status.uri)
        return False
    if not same_origin(stamp, quoted_author.uri):
        return False
    try:
        document = await ctx.actors.fetch_document(stamp)
    except ActorNotFound as exc:
        log.info("stamp %s of quote %s not fetched: %s", stamp, status.uri, exc)
        return False
    return (
        "QuoteAuthorization" in as_list(document.get("type"))
        and document.get("id") == stamp
        and id_of(document.get("attributedTo")) == quoted_author.uri
        and id_of(document.get("interactingObject")) == status.uri
        and id_of(document.get("interactionTarget")) == quoted.uri
    )
