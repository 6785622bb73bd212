"""Rows to entities, a page at a time, for one viewer."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.cards.store import cards_of
from spark_fed.filters import FilterResult, filter_matches, hidden
from spark_fed.media.records import profile_images
from spark_fed.media.service import attachments_of
from spark_fed.models import Account, Status
from spark_fed.queries.marks import marks_of
from spark_fed.queries.polls import choices_of, polls_by_status
from spark_fed.queries.views import (
    account_counts,
    accounts_by_id,
    counts_by_account,
    favourited_by,
    mentions_of,
    reblogged_by,
    tags_of,
)
from spark_fed.urls import Urls

from .entities import Counts, ProfileImages, StatusView, account_entity, status_entity
from .poll_entity import poll_entity
from .quote_entities import add_quotes


async def account_json(session: AsyncSession, account: Account, urls: Urls) -> dict[str, Any]:
    followers, following, statuses, last = await account_counts(session, account.id)
    images = ProfileImages.of(await profile_images(session, {account.id}), account.id)
    counted = Counts(followers, following, statuses, last)
    return account_entity(account, urls, counted, avatar=images.avatar, header=images.header)


async def accounts_json(session: AsyncSession, accounts: list[Account], urls: Urls) -> list[dict[str, Any]]:
    """Account entities with their real counts and images, for a whole list in four queries."""
    found = await counts_by_account(session, {a.id for a in accounts})
    images = await profile_images(session, {a.id for a in accounts})
    entities = []
    for a in accounts:
        own = ProfileImages.of(images, a.id)
        entities.append(account_entity(a, urls, Counts(*found[a.id]), avatar=own.avatar, header=own.header))
    return entities


async def counts(session: AsyncSession, account: Account) -> Counts:
    return Counts(*await account_counts(session, account.id))


async def apply_filters(
    session: AsyncSession, viewer: Account | None, rows: list[Status], context: str | None
) -> tuple[list[Status], dict[int, list[FilterResult]]]:
    """ROWS without those a hide filter of the viewer's (in CONTEXT) matches, and the filters
    that match the rest (their `filtered`). CONTEXT None: a status on its own, shown with every
    filter that matches it, of any context and action, for the app to decide (as Mastodon)."""
    if viewer is None or not rows:
        return rows, {}
    matches = await filter_matches(session, viewer.id, rows, context)
    if context is None:
        return rows, matches
    kept = [r for r in rows if not hidden(matches.get(r.id, ()))]
    return kept, {r.id: matches[r.id] for r in kept if r.id in matches}


async def filtered_statuses_json(
    session: AsyncSession, rows: list[Status], viewer: Account | None, urls: Urls, context: str | None
) -> list[dict[str, Any]]:
    """`statuses_json` after the viewer's filters of CONTEXT: hidden ones left out, the others
    carrying `filtered`."""
    kept, matches = await apply_filters(session, viewer, rows, context)
    return await statuses_json(session, kept, viewer, urls, filters=matches)


async def statuses_json(
    session: AsyncSession,
    rows: list[Status],
    viewer: Account | None,
    urls: Urls,
    *,
    filters: Mapping[int, Sequence[FilterResult]] | None = None,
    shallow: bool = False,
) -> list[dict[str, Any]]:
    """Status entities for ROWS (boosts carry the boosted note), in a handful of queries.
    FILTERS (by the id of a row) are the filters that matched it: its `filtered` (a boost's
    note carries them too). The posts they quote are built as one more page, SHALLOW (their
    own quotes by id only: `api.quote_entities`)."""
    filters = filters or {}
    boosted_ids = {r.reblog_of_id for r in rows if r.reblog_of_id is not None}
    originals = {}
    if boosted_ids:  # one query for the page's boosted notes, not one per boost
        found = await session.exec(select(Status).where(col(Status.id).in_(boosted_ids)))
        originals = {s.id: s for s in found.all()}
    every = [*rows, *originals.values()]
    ids = [s.id for s in every]
    accounts = await accounts_by_id(session, {s.account_id for s in every})
    mentions = await mentions_of(session, ids)
    tags = await tags_of(session, ids)
    author_counts = await counts_by_account(session, set(accounts))
    liked = await favourited_by(session, viewer.id, ids) if viewer else set()
    boosted = await reblogged_by(session, viewer.id, ids) if viewer else set()
    kept, pinned = await marks_of(session, viewer.id, ids) if viewer else (set(), set())
    media = await attachments_of(session, ids)
    images = await profile_images(session, set(accounts))
    cards = await cards_of(session, ids)
    polls = await polls_by_status(session, ids)
    own_votes = await choices_of(session, viewer.id, polls) if viewer and polls else {}

    def view(status: Status, filtered: Sequence[FilterResult] = ()) -> StatusView:
        return StatusView(
            status=status,
            author=accounts[status.account_id],
            mentions=mentions.get(status.id, []),
            tags=tags.get(status.id, []),
            favourited=status.id in liked,
            reblogged=status.id in boosted,
            bookmarked=status.id in kept,
            pinned=status.id in pinned,
            author_counts=Counts(*author_counts[status.account_id]),
            media=media.get(status.id, []),
            author_images=ProfileImages.of(images, status.account_id),
            filtered=filtered,
            card=cards.get(status.id),
            poll=poll_entity(
                polls[status.id],
                status.account_id,
                viewer.id if viewer else None,
                own_votes.get(status.id, []),
            )
            if status.id in polls
            else None,
        )

    result = []
    for row in rows:
        if row.reblog_of_id is not None:
            original = originals.get(row.reblog_of_id)
            if original is None:
                continue
            matched = filters.get(row.id, ())
            outer = view(row, matched)
            result.append(
                status_entity(StatusView(**{**outer.__dict__, "reblog": view(original, matched)}), urls)
            )
        else:
            result.append(status_entity(view(row, filters.get(row.id, ())), urls))

    async def quoted(found: list[Status]) -> list[dict[str, Any]]:
        return await statuses_json(session, found, viewer, urls, shallow=True)

    await add_quotes(session, result, {s.id: s for s in every}, viewer, shallow=shallow, build=quoted)
    return result
