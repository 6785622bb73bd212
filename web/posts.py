"""What a page shows of each post, loaded for a whole page at once.

A page of N posts costs the same handful of queries whatever N is (a test
counts them): authors and boosted notes come with the timeline, then one
query each for the viewer's likes, the viewer's reposts, the accounts
replied to and the posts' images.
"""

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.media.service import attachments_of
from spark_fed.models import Account, MediaAttachment, Status
from spark_fed.models.media import FetchState
from spark_fed.queries.timelines import TimelineItem, with_authors
from spark_fed.queries.views import accounts_by_id, favourited_by, reblogged_by

# What an image without a description is called (screen readers, and axe, need a text).
NO_DESCRIPTION = "Image"


@dataclass(frozen=True)
class MediaView:
    """One image of a post as the grid shows it: Spark's thumbnail, linking to Spark's original.

    A remote file that failed Spark's checks is never inlined: `link` is then its remote URL,
    shown as a link with its alt text. `remote` is the origin's URL of a remote file not fetched
    yet, for the script to fall back to a link if the proxy cannot fetch it either.
    """

    id: int
    alt: str
    thumbnail: str
    original: str
    width: int | None
    height: int | None
    link: str | None = None
    remote: str | None = None

    @classmethod
    def of(cls, row: MediaAttachment) -> "MediaView":
        failed = not row.local and row.fetch_state == FetchState.FAILED
        pending = not row.local and not row.file_key and not failed
        width, height = row.thumbnail_width or row.width, row.thumbnail_height or row.height
        return cls(
            id=row.id,
            alt=row.description.strip() or NO_DESCRIPTION,
            thumbnail=f"/media/{row.id}/small",
            original=f"/media/{row.id}/original",
            width=width,
            height=height,
            link=row.remote_url if failed else None,
            remote=row.remote_url if pending else None,
        )


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
    media: tuple[MediaView, ...] = ()


async def post_views(
    session: AsyncSession, viewer: Account | None, items: list[TimelineItem]
) -> list[PostView]:
    notes = [item.note.id for item in items]
    liked = await favourited_by(session, viewer.id, notes) if viewer else set()
    reposted = await reblogged_by(session, viewer.id, notes) if viewer else set()
    parents = await accounts_by_id(
        session, {i.note.in_reply_to_account_id for i in items if i.note.in_reply_to_account_id}
    )
    media = await attachments_of(session, notes)
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
            media=tuple(MediaView.of(row) for row in media.get(item.note.id, [])),
        )
        for item in items
    ]


async def views_of(session: AsyncSession, viewer: Account | None, rows: list[Status]) -> list[PostView]:
    """`post_views` for plain status rows (a thread, a profile, a tag)."""
    return await post_views(session, viewer, await with_authors(session, rows))
