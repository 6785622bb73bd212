"""What a page shows of each post, loaded for a whole page at once.

A page of N posts costs the same handful of queries whatever N is (a test
counts them): authors and boosted notes come with the timeline, then one
query each for the viewer's likes, the viewer's reposts and the accounts
replied to.
"""

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.models import Account, Status
from spark_fed.queries.timelines import TimelineItem, with_authors
from spark_fed.queries.views import accounts_by_id, favourited_by, reblogged_by


@dataclass(frozen=True)
class PostView:
    """One `<article>`: the note, who wrote it, who reposted it and how the viewer relates to it."""

    row_id: int  # the timeline row (the repost's own id for a repost): the paging cursor
    note: Status
    author: Account
    reposted_by: Account | None
    replying_to: Account | None
    liked: bool
    reposted: bool
    own: bool


async def post_views(
    session: AsyncSession, viewer: Account | None, items: list[TimelineItem]
) -> list[PostView]:
    notes = [item.note.id for item in items]
    liked = await favourited_by(session, viewer.id, notes) if viewer else set()
    reposted = await reblogged_by(session, viewer.id, notes) if viewer else set()
    parents = await accounts_by_id(
        session, {i.note.in_reply_to_account_id for i in items if i.note.in_reply_to_account_id}
    )
    return [
        PostView(
            row_id=item.status.id,
            note=item.note,
            author=item.note_author,
            reposted_by=item.author if item.is_boost else None,
            replying_to=parents.get(item.note.in_reply_to_account_id or 0),
            liked=item.note.id in liked,
            reposted=item.note.id in reposted,
            own=viewer is not None and item.note_author.id == viewer.id,
        )
        for item in items
    ]


async def views_of(session: AsyncSession, viewer: Account | None, rows: list[Status]) -> list[PostView]:
    """`post_views` for plain status rows (a thread, a profile, a tag)."""
    return await post_views(session, viewer, await with_authors(session, rows))
