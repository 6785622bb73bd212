"""The card a post shows for the post it quotes, loaded for a page of posts at once.

The quoted post is shown only when its author approved the quote (or it is their own) and the
viewer may read it; otherwise the card says plainly where the quote stands, with a link to the
quoted post, so an unapproved quote never looks approved.
"""

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.models import Account, QuoteState, Status
from spark_fed.queries.visibility import visible_to
from spark_fed.quotes import quotes_by_status

# What the card says when it shows no post, by the quote's state.
NOTICES = {
    QuoteState.PENDING: "Not confirmed by the quoted post's author (yet).",
    QuoteState.REJECTED: "The author of the quoted post declined this quote.",
    QuoteState.REVOKED: "The author removed this quote.",
    QuoteState.UNAUTHORIZED: "Unverified quote: its author's approval could not be confirmed.",
    "deleted": "The quoted post was deleted.",
    "hidden": "The quoted post is not available to you.",
}


@dataclass(frozen=True)
class QuoteCard:
    """STATE as the API names it; NOTE and AUTHOR when the quoted post is shown; URI to link to."""

    quoting_id: int
    state: str
    uri: str
    note: Status | None = None
    author: Account | None = None
    quoted_id: int | None = None
    quoted_account_id: int | None = None

    @property
    def notice(self) -> str:
        return NOTICES.get(self.state, NOTICES["hidden"])


async def quote_cards(
    session: AsyncSession, viewer: Account | None, note_ids: list[int]
) -> dict[int, QuoteCard]:
    """The cards of the posts NOTE_IDS that quote something: one query for the quotes, and one
    for the quoted posts the viewer may read, with their authors, when any is approved."""
    quotes = await quotes_by_status(session, note_ids)
    shown = {
        q.quoted_status_id for q in quotes.values() if q.state == QuoteState.ACCEPTED and q.quoted_status_id
    }
    readable: dict[int, tuple[Status, Account]] = {}
    if shown:
        rows = await session.exec(
            select(Status, Account)
            .join(Account, col(Account.id) == col(Status.account_id))
            .where(col(Status.id).in_(sorted(shown)), visible_to(viewer.id if viewer else None))
        )
        readable = {status.id: (status, account) for status, account in rows.all()}
    cards = {}
    for note_id, quote in quotes.items():
        state = quote.state
        if state == QuoteState.ACCEPTED and quote.quoted_status_id is None:
            state = "deleted"
        found = readable.get(quote.quoted_status_id or 0) if state == QuoteState.ACCEPTED else None
        if state == QuoteState.ACCEPTED and found is None:
            state = "hidden"
        cards[note_id] = QuoteCard(
            quoting_id=note_id,
            state=state,
            uri=found[0].url or found[0].uri if found else quote.quoted_uri,
            note=found[0] if found else None,
            author=found[1] if found else None,
            quoted_id=quote.quoted_status_id,
            quoted_account_id=quote.quoted_account_id,
        )
    return cards
