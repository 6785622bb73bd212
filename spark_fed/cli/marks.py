"""The bookmark and pin commands of `spark-fed`: bookmark, unbookmark, bookmarks, pin, unpin, pins."""

import argparse
from typing import Any

from outbox import bookmarks, pins

from ..content import plain_text
from ..context import Context
from ..errors import UsageError
from ..federation.notes import NoteRejected
from ..models import Account, Status
from ..queries.marks import bookmarked, pinned_posts
from ..queries.paging import NEWEST
from ..queries.statuses import find_status
from ..queries.views import accounts_by_id
from .output import iso, print_rows
from .posts import with_user

PAGE = 200


def add_commands(commands: Any, local_user: Any) -> None:
    """Register the commands; LOCAL_USER(ctx, name) finds the acting account."""
    for name, runner, text in (
        ("bookmark", _bookmark, "bookmark the post at URL for NAME (private: nothing is sent)"),
        ("unbookmark", _unbookmark, "remove NAME's bookmark of the post at URL"),
        ("pin", _pin, "pin NAME's own post at URL to the profile (at most five)"),
        ("unpin", _unpin, "unpin NAME's post at URL"),
    ):
        command = commands.add_parser(name, help=f"{text}; prints the post's id")
        command.add_argument("name")
        command.add_argument("url")
        command.set_defaults(run=with_user(local_user, runner))
    for name, runner, text in (
        ("bookmarks", _bookmarks, "list NAME's bookmarks, newest bookmark first"),
        ("pins", _pins, "list NAME's pinned posts, newest pin first"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.add_argument("--json", action="store_true")
        command.set_defaults(run=with_user(local_user, runner))


async def _post(ctx: Context, url: str) -> Status:
    """The post at URL (its id or page), fetched if remote and not known yet."""
    async with ctx.db.read() as session:
        status = await find_status(session, url)
    if status is not None:
        return status
    try:
        return await ctx.notes.get(url)
    except NoteRejected as exc:
        raise UsageError(f"no post at {url}: {exc}") from None


def _marking(action: Any) -> Any:
    async def run(ctx: Context, account: Account, args: argparse.Namespace) -> int:
        status = await action(ctx, account, (await _post(ctx, args.url)).id)
        print(status.uri)
        return 0

    return run


_bookmark = _marking(bookmarks.bookmark)
_unbookmark = _marking(bookmarks.unbookmark)
_pin = _marking(pins.pin)
_unpin = _marking(pins.unpin)


async def _bookmarks(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    found: list[tuple[int, Status]] = []
    cursor = NEWEST
    async with ctx.db.read() as session:
        while page := await bookmarked(session, account, limit=PAGE, cursor=cursor):
            found += page
            cursor = NEWEST.below(page[-1][0])
        rows = await _rows(ctx, session, [status for _, status in found])
    print_rows(rows, ["author", "published", "text", "id"], as_json=args.json)
    return 0


async def _pins(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    async with ctx.db.read() as session:
        rows = await _rows(ctx, session, await pinned_posts(session, account, account))
    print_rows(rows, ["published", "text", "id"], as_json=args.json)
    return 0


async def _rows(ctx: Context, session: Any, statuses: list[Status]) -> list[dict[str, Any]]:
    authors = await accounts_by_id(session, {s.account_id for s in statuses})
    rows = []
    for status in statuses:
        author = authors[status.account_id]
        rows.append(
            {
                "id": status.uri,
                "url": status.url or status.uri,
                "author": f"{author.username}@{author.domain or ctx.urls.domain}",
                "content": status.content,
                "text": plain_text(status.content)[:80],
                "published": iso(status.published),
                "visibility": status.visibility,
            }
        )
    return rows
