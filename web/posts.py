"""What a page shows of each post, loaded for a whole page at once.

A page of N posts costs the same handful of queries whatever N is (a test
counts them): authors and boosted notes come with the timeline (for a list of
plain rows, the accounts replied to come in the authors' query), then one query
for the viewer's likes, reposts, bookmarks and pins together, one for the posts' images, one for
their link cards, one for their polls (and one for the viewer's votes when there are polls), one for
the viewer's muted words (`spark_fed.filters.filter_matches`) and, only when some
are not on the page already, one for the accounts replied to.

Muted words: a post that matches a filter whose action is "hide" is left out of
the page; one that matches a "warn" filter carries the filters' titles in
`filtered`, and the template shows it collapsed behind "Filtered: TITLE".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import and_, exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed import filters as muted_words
from spark_fed.cards.store import cards_of
from spark_fed.media.service import attachments_of
from spark_fed.models import Account, Bookmark, Favourite, MediaAttachment, PreviewCard, Status, StatusPin
from spark_fed.models.media import FetchState
from spark_fed.queries.timelines import TimelineItem
from spark_fed.queries.views import accounts_by_id

from .polls import PollView, poll_views
from .quote_cards import QuoteCard, quote_cards

# The places muted words apply to (Mastodon's filter contexts), by page.
HOME, NOTIFICATIONS, PUBLIC, THREAD, ACCOUNT = "home", "notifications", "public", "thread", "account"

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
class CardView:
    """A link's preview card under a post: the page's title, site and image (through the proxy).

    Only text and Spark's own image URL: a card's HTML (a video's iframe, for apps) is never
    put into Spark's pages."""

    url: str
    title: str
    description: str
    site: str
    image: str | None

    @classmethod
    def of(cls, card: PreviewCard, image: MediaAttachment | None) -> "CardView":
        shown = image is not None and image.fetch_state != FetchState.FAILED
        return cls(
            url=card.url,
            title=card.title,
            description=card.description,
            site=card.provider_name or (urlsplit(card.url).hostname or ""),
            image=f"/media/{image.id}/small" if shown and image is not None else None,
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
    bookmarked: bool = False
    pinned: bool = False
    media: tuple[MediaView, ...] = ()
    # The titles of the viewer's "warn" muted words this post matches: shown collapsed.
    filtered: tuple[str, ...] = ()
    card: CardView | None = None
    poll: PollView | None = None
    # The post it quotes, as its card shows it (`web.quote_cards`).
    quote: QuoteCard | None = None


async def post_views(
    session: AsyncSession,
    viewer: Account | None,
    items: list[TimelineItem],
    context: str | None = None,
    *,
    known: Iterable[Account] = (),
) -> list[PostView]:
    """The views of ITEMS; with a CONTEXT (HOME, PUBLIC...) the viewer's muted words of that
    context apply to others' posts: a "hide" match is left out, a "warn" match is marked
    `filtered`. KNOWN are
    accounts loaded already (the accounts replied to are looked up only when not among them)."""
    others = [i.note for i in items if viewer is not None and i.note_author.id != viewer.id]
    if viewer is not None and context is not None and others:
        # One's own posts are never filtered from one's own pages.
        matches = await muted_words.filter_matches(session, viewer.id, others, context)
        hidden = {sid for sid, results in matches.items() if any(_hides(r) for r in results)}
        items = [i for i in items if i.note.id not in hidden]
    else:
        matches = {}
    notes = [item.note.id for item in items]
    liked, reposted, kept, pinned = await _marks(session, viewer.id, notes) if viewer else (set(),) * 4
    accounts = {a.id: a for a in known}
    for item in items:
        accounts[item.author.id] = item.author
        accounts[item.note_author.id] = item.note_author
    if viewer is not None:
        accounts[viewer.id] = viewer
    wanted = {i.note.in_reply_to_account_id for i in items if i.note.in_reply_to_account_id}
    accounts |= await accounts_by_id(session, wanted - accounts.keys())
    media = await attachments_of(session, notes)
    # A post with images shows them, not a card: only the others' cards are loaded.
    cards = await cards_of(session, [note for note in notes if note not in media])
    polls = await poll_views(session, viewer, {item.note.id: item.note.account_id for item in items})
    quoted = await quote_cards(session, viewer, notes)
    return [
        PostView(
            row_id=item.status.id,
            note=item.note,
            author=item.note_author,
            reposted_by=item.author if item.is_boost else None,
            replying_to=accounts.get(item.note.in_reply_to_account_id or 0),
            liked=item.note.id in liked,
            reposted=item.note.id in reposted,
            own=viewer is not None and item.note_author.id == viewer.id,
            bookmarked=item.note.id in kept,
            pinned=item.note.id in pinned,
            media=tuple(MediaView.of(row) for row in media.get(item.note.id, [])),
            filtered=tuple(dict.fromkeys(r.filter.title for r in matches.get(item.note.id, []))),
            card=CardView.of(*cards[item.note.id]) if item.note.id in cards else None,
            poll=polls.get(item.note.id),
            quote=quoted.get(item.note.id),
        )
        for item in items
    ]


def _hides(result: object) -> bool:
    return str(getattr(getattr(result, "filter", None), "action", "")) == "hide"


async def _marks(
    session: AsyncSession, viewer_id: int, notes: list[int]
) -> tuple[set[int], set[int], set[int], set[int]]:
    """Which of NOTES the viewer liked, reposted, bookmarked and pinned, in one query."""
    if not notes:
        return set(), set(), set(), set()
    repost = Status.__table__.alias("repost")  # type: ignore[attr-defined]
    liked = exists().where(and_(Favourite.account_id == viewer_id, Favourite.status_id == Status.id))
    reposted = exists().where(and_(repost.c.account_id == viewer_id, repost.c.reblog_of_id == Status.id))
    kept = exists().where(and_(Bookmark.account_id == viewer_id, Bookmark.status_id == Status.id))
    pinned = exists().where(and_(StatusPin.account_id == viewer_id, StatusPin.status_id == Status.id))
    rows = await session.exec(
        select(Status.id, liked, reposted, kept, pinned).where(col(Status.id).in_(notes))
    )
    found = rows.all()
    return tuple({row[0] for row in found if row[n]} for n in range(1, 5))  # type: ignore[return-value]


async def views_of(
    session: AsyncSession, viewer: Account | None, rows: list[Status], context: str | None = None
) -> list[PostView]:
    """`post_views` for plain status rows (a thread, a profile, a tag): the boosted notes in one
    query, then the authors and the accounts replied to in another."""
    boosted_ids = {r.reblog_of_id for r in rows if r.reblog_of_id is not None}
    boosted: dict[int, Status] = {}
    if boosted_ids:
        found = await session.exec(select(Status).where(col(Status.id).in_(boosted_ids)))
        boosted = {s.id: s for s in found.all()}
    notes = [boosted.get(r.reblog_of_id) if r.reblog_of_id is not None else r for r in rows]
    wanted = {r.account_id for r in rows} | {n.account_id for n in notes if n is not None}
    wanted |= {n.in_reply_to_account_id for n in notes if n is not None and n.in_reply_to_account_id}
    accounts = await accounts_by_id(session, wanted)
    items = [
        TimelineItem(row, accounts[row.account_id], note, accounts[note.account_id])
        for row, note in zip(rows, notes, strict=True)
        if note is not None and row.account_id in accounts and note.account_id in accounts
    ]
    return await post_views(session, viewer, items, context, known=accounts.values())
