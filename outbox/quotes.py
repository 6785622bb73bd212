"""Quoting with consent, the local side: checking that a post may be quoted, asking a remote
author (`QuoteRequest`), answering the requests for our own posts by their policy (`Accept`
with a `QuoteAuthorization`, or `Reject`), and revoking a stamp (`Delete` of it).

The rules (docs/quotes.md): one may quote only a public or unlisted post one may see, whose
policy lets one (`spark_fed.quotes.approval`). A quote of a local post is settled at once; a
quote of a remote post is pending until its author answers.
"""

import html
import logging
import uuid
from typing import Any

from sqlmodel import select

from spark_fed.activitystreams import AS2, PUBLIC
from spark_fed.context import Context
from spark_fed.delivery import enqueue, preferred_inboxes
from spark_fed.errors import UsageError
from spark_fed.federation.documents import same_origin
from spark_fed.federation.notes import NoteRejected
from spark_fed.models import Account, Quote, QuotePolicy, QuoteState, Status, User
from spark_fed.models.types import utcnow
from spark_fed.queries.safety import blockers_of
from spark_fed.queries.statuses import followers_of, follows
from spark_fed.queries.timelines import may_see
from spark_fed.quotes import (
    AUTHORIZATION_TERMS,
    QUOTABLE,
    REQUEST_TERMS,
    QuoteLink,
    approval,
    effective_policy,
    interaction_policy,
    notify_quoted,
    set_state,
)

log = logging.getLogger(__name__)

POLICIES = frozenset(QuotePolicy)


class QuoteRefused(UsageError):
    """This post may not be quoted by this account; the message says why."""


def check_policy(value: str | None) -> str | None:
    if value is not None and value not in POLICIES:
        raise UsageError("quote_approval_policy must be public, followers or nobody")
    return value


async def quotable(ctx: Context, author: Account, quoted: Status) -> QuoteLink:
    """What AUTHOR's new post quoting QUOTED is stored with, or `QuoteRefused`: a post one may not
    see, a boost, a private or direct post, or a policy that leaves AUTHOR out."""
    async with ctx.db.read() as session:
        if quoted.reblog_of_id is not None or not await may_see(session, author, quoted):
            raise QuoteRefused("that post cannot be quoted")
        if quoted.visibility not in QUOTABLE:
            raise QuoteRefused("only public and unlisted posts can be quoted")
        is_author = quoted.account_id == author.id
        following = not is_author and await follows(session, author.id, quoted.account_id)
    answer = approval(effective_policy(quoted), is_author=is_author, follows=following)
    if answer == "denied":
        raise QuoteRefused("its author does not allow you to quote it")
    settled = quoted.local or is_author
    return QuoteLink(
        quoted_uri=quoted.uri,
        quoted=quoted,
        state=QuoteState.ACCEPTED if settled else QuoteState.PENDING,
    )


async def after_post(ctx: Context, session: Any, status: Status, author: Account, link: QuoteLink) -> None:
    """Inside the posting transaction: a quote of a local post gets its stamp; a quote of a remote
    post asks its author."""
    quote = (await session.exec(select(Quote).where(Quote.status_id == status.id))).one()
    quoted = link.quoted
    if quoted is None:
        return
    quoted_author = await session.get(Account, quoted.account_id)
    if quoted.local:
        quote.authorization_uri = authorization_uri(ctx, quoted_author, quote)
        session.add(quote)
        return
    if quote.state == QuoteState.ACCEPTED:
        return  # one's own post: nothing to ask
    quote.request_uri = f"{status.uri}#quote_request"
    session.add(quote)
    enqueue(session, author, quote_request(author, quote, quoted, status), [quoted_author.inbox_url])


def authorization_uri(ctx: Context, quoted_author: Account, quote: Quote) -> str:
    """Where Spark serves the stamp for QUOTE: a stable URL under the quoted author."""
    return f"{ctx.urls.actor(quoted_author.username)}/quote_authorizations/{quote.id}"


def quote_request(author: Account, quote: Quote, quoted: Status, status: Status) -> dict[str, Any]:
    return {
        "@context": [AS2, REQUEST_TERMS],
        "id": quote.request_uri,
        "type": "QuoteRequest",
        "actor": author.uri,
        "object": quoted.uri,
        "instrument": status.uri,
    }


def authorization_document(quote: Quote, quoted_author: Account, quoting_uri: str) -> dict[str, Any]:
    """Model → AS2: the stamp Spark serves for a quote of a local post."""
    return {
        "@context": [AS2, AUTHORIZATION_TERMS],
        "id": quote.authorization_uri,
        "type": "QuoteAuthorization",
        "attributedTo": quoted_author.uri,
        "interactingObject": quoting_uri,
        "interactionTarget": quote.quoted_uri,
    }


async def answer_request(ctx: Context, requester: Account, activity: dict[str, Any]) -> None:
    """A remote `QuoteRequest` for a local post: accepted by the post's policy (the quoting post is
    stored, its quote marked approved, its author told with an `Accept` whose `result` is the
    stamp), refused with a `Reject` otherwise."""
    request_id = activity.get("id")
    target = _id(activity.get("object"))
    instrument = activity.get("instrument")
    instrument_uri = _id(instrument)
    if not isinstance(request_id, str) or target is None or instrument_uri is None:
        return
    async with ctx.db.read() as session:
        quoted = (await session.exec(select(Status).where(Status.uri == target))).first()
        if quoted is None or not quoted.local or quoted.reblog_of_id is not None:
            return
        quoted_author = await session.get(Account, quoted.account_id)
        following = await follows(session, requester.id, quoted.account_id)
        visible = await may_see(session, requester, quoted)
    allowed = (
        visible
        and quoted.visibility in QUOTABLE
        and approval(effective_policy(quoted), is_author=False, follows=following) == "automatic"
    )
    quoting = await _instrument(ctx, requester, instrument) if allowed else None
    async with ctx.db.write() as session:
        quote = None
        if quoting is not None:
            quote = (await session.exec(select(Quote).where(Quote.status_id == quoting.id))).first()
            if quote is None or quote.quoted_status_id != quoted.id or quoting.account_id != requester.id:
                quote = None
        if quote is None:
            reply = _answer(
                "Reject",
                quoted_author,
                activity,
                f"{quoted_author.uri}#rejects/quote_requests/{uuid.uuid4().hex}",
            )
            enqueue(session, quoted_author, reply, [requester.inbox_url])
            return
        already = quote.state == QuoteState.ACCEPTED
        quote.request_uri = request_id[:2048]
        quote.authorization_uri = authorization_uri(ctx, quoted_author, quote)
        set_state(quote, QuoteState.ACCEPTED)
        session.add(quote)
        if not already:
            await notify_quoted(session, quote)
        reply = _answer(
            "Accept", quoted_author, activity, f"{quoted_author.uri}#accepts/quote_requests/{quote.id}"
        )
        reply["result"] = quote.authorization_uri
        enqueue(session, quoted_author, reply, [requester.inbox_url])
    ctx.deliveries_queued()


def _answer(kind: str, actor: Account, request: dict[str, Any], answer_id: str) -> dict[str, Any]:
    inner = {k: request[k] for k in ("id", "type", "actor", "object", "instrument") if k in request}
    if isinstance(inner.get("instrument"), dict):
        inner["instrument"] = _id(inner["instrument"])
    return {
        "@context": [AS2, REQUEST_TERMS],
        "id": answer_id,
        "type": kind,
        "actor": actor.uri,
        "object": inner,
    }


async def _instrument(ctx: Context, requester: Account, instrument: Any) -> Status | None:
    """The quoting post: stored already, taken from the request when it came inline from the
    requester's own server, or fetched from its origin."""
    uri = _id(instrument)
    if uri is None:
        return None
    try:
        if isinstance(instrument, dict):
            return await ctx.notes.ingest(instrument, sender=requester)
        return await ctx.notes.get(uri)
    except NoteRejected as exc:
        log.info("quote request from %s: quoting post %s not stored: %s", requester.uri, uri, exc)
        return None


async def settle_request(ctx: Context, actor: Account, activity: dict[str, Any], *, accepted: bool) -> bool:
    """An `Accept` or `Reject` of a `QuoteRequest` we sent; False when it answers something else.

    Only the quoted author may answer; an accepted quote keeps the stamp it names (`result`),
    which must live on the author's server, and its followers get the post again (`Update`)
    carrying it."""
    inner = activity.get("object")
    request_id = _id(inner)
    if request_id is None:
        return False
    if isinstance(inner, dict) and inner.get("type") not in (None, "QuoteRequest"):
        return False
    async with ctx.db.write() as session:
        quote = (await session.exec(select(Quote).where(Quote.request_uri == request_id))).first()
        if quote is None:
            return isinstance(inner, dict) and inner.get("type") == "QuoteRequest"
        if quote.quoted_account_id != actor.id:
            return True
        status = await session.get(Status, quote.status_id)
        author = await session.get(Account, quote.account_id)
        if status is None or author is None or not author.is_local:
            return True
        if accepted:
            result = _id(activity.get("result"))
            if result is None or not same_origin(result, actor.uri):
                log.info("Accept of %s from %s names no stamp of its own", request_id, actor.uri)
                return True
            set_state(quote, QuoteState.ACCEPTED, authorization_uri=result[:2048])
        else:
            set_state(quote, QuoteState.REJECTED)
        session.add(quote)
        await _send_update(ctx, session, status, author, extra=[actor])
    ctx.deliveries_queued()
    return True


async def revoke(ctx: Context, author: Account, quoted: Status, quoting: Status) -> Quote:
    """AUTHOR withdraws the approval of QUOTING's quote of AUTHOR's post QUOTED: the stamp is gone
    (its URL answers 410), its quoter's server and the author's followers are told (`Delete`)."""
    async with ctx.db.write() as session:
        quote = (
            await session.exec(
                select(Quote).where(Quote.status_id == quoting.id, Quote.quoted_status_id == quoted.id)
            )
        ).first()
        if quote is None or quoted.account_id != author.id:
            raise UsageError("there is no such quote of your post")
        stamp = quote.authorization_uri
        set_state(quote, QuoteState.REVOKED)
        session.add(quote)
        quoter = await session.get(Account, quote.account_id)
        if stamp and quoter is not None and not quoter.is_local:
            recipients = [quoter, *await followers_of(session, author.id, local=False)]
            enqueue(session, author, _delete_stamp(author, stamp), preferred_inboxes(recipients))
        elif quoter is not None and quoter.is_local:
            status = await session.get(Status, quote.status_id)
            if status is not None:
                await _send_update(ctx, session, status, quoter, extra=[])
    ctx.deliveries_queued()
    return quote


def _delete_stamp(author: Account, stamp: str) -> dict[str, Any]:
    return {
        "@context": AS2,
        "id": f"{stamp}#delete",
        "type": "Delete",
        "actor": author.uri,
        "to": [PUBLIC],
        "object": stamp,
    }


async def _send_update(
    ctx: Context, session: Any, status: Status, author: Account, *, extra: list[Account]
) -> None:
    """The quoting post again, as it now stands, to those who have it (an `Update` without a new
    `updated`: the text did not change, only its quote's standing)."""
    from . import notes
    from .posts import note_document  # posts calls this module: imported when first needed

    document = await note_document(ctx, session, status, author)
    activity = notes.with_context(
        {
            "id": f"{status.uri}#updates/quote-{int(utcnow().timestamp() * 1000)}",
            "type": "Update",
            "actor": author.uri,
            "to": document["to"],
            "cc": document["cc"],
            "object": document,
        }
    )
    recipients = [*extra]
    if status.visibility in QUOTABLE:
        recipients += await followers_of(session, author.id, local=False)
    enqueue(session, author, activity, preferred_inboxes(recipients))


async def served_authorization(ctx: Context, username: str, quote_id: int) -> dict[str, Any] | None:
    """The stamp at its URL, or None when there is none (never issued, or revoked: then 404/410)."""
    async with ctx.db.read() as session:
        quote = await session.get(Quote, quote_id)
        if quote is None or quote.state != QuoteState.ACCEPTED or quote.authorization_uri is None:
            return None
        quoted_author = (
            await session.get(Account, quote.quoted_account_id) if quote.quoted_account_id else None
        )
        quoting = await session.get(Status, quote.status_id)
    if (
        quoted_author is None
        or not quoted_author.is_local
        or quoted_author.username != username
        or quoting is None
    ):
        return None
    if quote.authorization_uri != authorization_uri(ctx, quoted_author, quote):
        return None
    return authorization_document(quote, quoted_author, quoting.uri)


async def was_revoked(ctx: Context, quote_id: int) -> bool:
    """A stamp that was withdrawn answers 410, as a deleted post does."""
    async with ctx.db.read() as session:
        quote = await session.get(Quote, quote_id)
    return quote is not None and quote.state == QuoteState.REVOKED


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and len(value) <= 2048 else None


async def default_policy(ctx: Context, author: Account) -> str:
    """The author's default quote policy (settings, or `source[quote_policy]`)."""
    async with ctx.db.read() as session:
        user = await session.get(User, author.id)
    return user.default_quote_policy if user is not None else QuotePolicy.PUBLIC


async def set_default_policy(ctx: Context, author: Account, policy: str) -> None:
    check_policy(policy)
    async with ctx.db.write() as session:
        user = await session.get(User, author.id) or User(account_id=author.id)
        user.default_quote_policy = policy
        session.add(user)


async def quoted_author(session: Any, quoted: Status, author: Account) -> list[Account]:
    """The quoted post's author, when remote and not blocking AUTHOR: the quote is sent there too."""
    other = await session.get(Account, quoted.account_id)
    if other is None or other.is_local or other.id == author.id:
        return []
    return [] if await blockers_of(session, author.id, [other.id]) else [other]


def with_quote(
    document: dict[str, Any], status: Status, author: Account, quote: Quote | None
) -> dict[str, Any]:
    """Model → AS2: a local Note's quote policy, and what it quotes under every name peers read,
    its stamp once approved, and a "RE: link" paragraph for servers that show no quotes."""
    if status.local:
        document["interactionPolicy"] = interaction_policy(effective_policy(status), author)
    if quote is None:
        return document
    for key in ("quote", "_misskey_quote", "quoteUri"):
        document[key] = quote.quoted_uri
    if quote.state == QuoteState.ACCEPTED and quote.authorization_uri:
        document["quoteAuthorization"] = quote.authorization_uri
    link = html.escape(quote.quoted_uri, quote=True)
    fallback = f'<p class="quote-inline">RE: <a href="{link}">{link}</a></p>'
    document["content"] = f"{document['content']}{fallback}"
    if isinstance(document.get("contentMap"), dict):
        document["contentMap"] = {lang: document["content"] for lang in document["contentMap"]}
    return document


async def find(ctx: Context, url: str) -> Status:
    """The post at URL to quote (fetched from its server if need be)."""
    try:
        return await ctx.notes.get(url)
    except NoteRejected as exc:
        raise QuoteRefused(f"cannot quote {url}: {exc}") from None
