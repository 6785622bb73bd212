"""Reading quotes: the approved quotes of a post, for its author, paged by the quote's id."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, Quote, QuoteState, Status
from .paging import Cursor, page
from .visibility import visible_to


async def quotes_of(
    session: AsyncSession, status_id: int, reader: Account, *, limit: int, cursor: Cursor
) -> list[tuple[int, Status]]:
    """(quote id, quoting post) of the approved quotes of the post STATUS_ID that READER may
    read, newest quote first."""
    query = (
        select(Quote.id, Status)
        .join(Status, col(Status.id) == col(Quote.status_id))
        .where(
            col(Quote.quoted_status_id) == status_id,
            col(Quote.state) == QuoteState.ACCEPTED,
            visible_to(reader.id),
        )
    )
    return [
        (quote_id, status) for quote_id, status in await page(session, query, col(Quote.id), limit, cursor)
    ]
