"""The Status entity's `quote` and `quote_approval` (Mastodon 4.5), for a page at a time.

A quote shows its quoted post (a `Quote` with the whole Status) only when the quote is approved
and the viewer may read the quoted post; one level deep, the quoted post's own quote is a
`ShallowQuote` (its id only). Otherwise `quoted_status` is null and `state` says why.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.models import Account, Follow, FollowState, Quote, QuotePolicy, QuoteState, Status
from spark_fed.queries.visibility import visible_to
from spark_fed.quotes import (
    QUOTABLE,
    accepted_counts,
    approval,
    automatic_list,
    effective_policy,
    quotes_by_status,
)

Build = Callable[[list[Status]], Awaitable[list[dict[str, Any]]]]


async def add_quotes(
    session: AsyncSession,
    entities: list[dict[str, Any]],
    statuses: dict[int, Status],
    viewer: Account | None,
    *,
    shallow: bool,
    build: Build,
) -> None:
    """Fill `quote` and `quote_approval` of ENTITIES (and of the posts they boost) in place.

    STATUSES holds the rows by id; BUILD makes entities of quoted posts (one nested page, built
    SHALLOW: their quotes carry ids only). One query for the quotes, one for how many approved
    quotes each has, one for the quoted posts the viewer may read, one for follows when a
    followers-only policy needs it."""
    every = [e for entity in entities for e in (entity, entity.get("reblog")) if e]
    ids = [int(e["id"]) for e in every]
    quotes = await quotes_by_status(session, ids)
    counts = await accepted_counts(session, ids)
    followed = await _followed(session, viewer, [statuses[i] for i in ids if i in statuses])
    quoted_entities: dict[int, dict[str, Any]] = {}
    shown = [q.quoted_status_id for q in quotes.values() if _shows(q)]
    if shown and not shallow:
        readable = await _readable(session, viewer, shown)
        for built in await build(readable):
            quoted_entities[int(built["id"])] = built
    for entity in every:
        status = statuses.get(int(entity["id"]))
        if status is None:
            continue
        entity["quote_approval"] = quote_approval(status, viewer, followed)
        entity["quotes_count"] = counts.get(status.id, 0)
        quote = quotes.get(status.id)
        entity["quote"] = None if quote is None else _quote(quote, quoted_entities, shallow=shallow)


def _shows(quote: Quote) -> bool:
    return quote.state == QuoteState.ACCEPTED and quote.quoted_status_id is not None


def _quote(quote: Quote, quoted: dict[int, dict[str, Any]], *, shallow: bool) -> dict[str, Any]:
    state = state_of(quote)
    if shallow:
        shown = state == QuoteState.ACCEPTED
        return {"state": state, "quoted_status_id": str(quote.quoted_status_id) if shown else None}
    entity = quoted.get(quote.quoted_status_id) if state == QuoteState.ACCEPTED else None
    if state == QuoteState.ACCEPTED and entity is None:
        state = QuoteState.UNAUTHORIZED  # approved, but not for this viewer's eyes
    return {"state": state, "quoted_status": entity}


def state_of(quote: Quote) -> str:
    """The API's `state`: as stored, or `deleted` once the quoted post is gone."""
    if quote.state == QuoteState.ACCEPTED and quote.quoted_status_id is None:
        return "deleted"
    return quote.state


def quote_approval(status: Status, viewer: Account | None, followed: set[int]) -> dict[str, Any]:
    policy = effective_policy(status) if status.reblog_of_id is None else QuotePolicy.NOBODY
    if viewer is None:
        current = "unknown"
    elif status.reblog_of_id is not None or status.visibility not in QUOTABLE:
        current = "denied"
    else:
        current = approval(
            policy, is_author=viewer.id == status.account_id, follows=status.account_id in followed
        )
    return {"automatic": automatic_list(policy), "manual": [], "current_user": current}


async def _followed(session: AsyncSession, viewer: Account | None, statuses: Sequence[Status]) -> set[int]:
    """The authors the viewer follows, asked only when a followers-only policy makes it matter."""
    if viewer is None:
        return set()
    authors = {
        s.account_id
        for s in statuses
        if s.quote_policy == QuotePolicy.FOLLOWERS and s.account_id != viewer.id
    }
    if not authors:
        return set()
    rows = await session.exec(
        select(Follow.followee_id).where(
            Follow.follower_id == viewer.id,
            col(Follow.followee_id).in_(sorted(authors)),
            Follow.state == FollowState.ACCEPTED,
        )
    )
    return set(rows.all())


async def _readable(session: AsyncSession, viewer: Account | None, ids: list[int]) -> list[Status]:
    rows = await session.exec(
        select(Status).where(
            col(Status.id).in_(sorted(set(ids))),
            visible_to(viewer.id if viewer else None),
        )
    )
    return list(rows.all())
