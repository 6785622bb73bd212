"""The posting, reading and notification commands of `spark-fed`."""

import argparse
import json
from datetime import datetime
from typing import Any

import outbox.interactions as interactions
import outbox.posts as posts
import outbox.quotes as quotes
import outbox.scheduled as scheduled

from ..config import Config
from ..content import plain_text
from ..context import Context, open_context
from ..errors import UsageError
from ..federation.notes import NoteRejected
from ..media.service import attachments_of
from ..models import Account, MediaAttachment, Status, Visibility
from ..polls import PollSpec
from ..queries.timelines import TimelineItem, TimelineKind, notifications, timeline
from .media import pair_images, upload_images
from .output import iso, limit

PAGE = 200
MAX_TIMELINE = 100_000
"""The longest `timeline --limit`: read in pages of PAGE, so memory, not the database, bounds it."""
MAX_NOTIFICATIONS = 1000


def add_commands(commands: Any, local_user: Any) -> None:
    """Register the commands; LOCAL_USER(ctx, name) finds the acting account."""
    post = commands.add_parser("post", help="post TEXT as NAME; prints the post's id")
    post.add_argument("name")
    post.add_argument("text")
    post.add_argument("--reply-to", metavar="URL")
    post.add_argument("--visibility", choices=[v.value for v in Visibility], default=Visibility.PUBLIC.value)
    post.add_argument("--cw", metavar="TEXT", help="content warning (summary), marks the post sensitive")
    post.add_argument("--language", metavar="CODE")
    post.add_argument(
        "--image", action="append", metavar="PATH", help="attach an image (JPEG, PNG, WebP, GIF); up to 4"
    )
    post.add_argument(
        "--alt", action="append", metavar="TEXT", help="describes the image: the n-th --alt the n-th --image"
    )
    post.add_argument(
        "--at",
        metavar="TIME",
        help="schedule it for TIME (ISO 8601, UTC unless it says; at least 5 minutes ahead): "
        "prints the scheduled post's id instead (see `scheduled`)",
    )
    post.add_argument(
        "--poll", action="append", metavar="OPTION", help="make the post a poll; one --poll per option"
    )
    post.add_argument("--poll-expires", type=int, default=86400, metavar="SECONDS", help="default: a day")
    post.add_argument("--poll-multiple", action="store_true", help="voters may pick several options")
    post.add_argument("--poll-hide-totals", action="store_true", help="show the counts only at the end")
    post.add_argument("--quote", metavar="URL", help="quote the post at URL (its author's policy permitting)")
    post.add_argument(
        "--quote-policy",
        choices=["public", "followers", "nobody"],
        help="who may quote this post (default: NAME's)",
    )
    post.add_argument("--json", action="store_true")
    post.set_defaults(run=with_user(local_user, _post))
    edit = commands.add_parser("edit", help="replace the text of NAME's post at URL")
    edit.add_argument("name")
    edit.add_argument("url")
    edit.add_argument("text")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(run=with_user(local_user, _edit))
    for name, action, text in (
        ("delete", posts.delete, "delete NAME's post at URL (it then answers 410)"),
        ("boost", interactions.boost, "boost the post at URL as NAME"),
        ("unboost", interactions.unboost, "take back NAME's boost of URL"),
        ("like", interactions.like, "like the post at URL as NAME"),
        ("unlike", interactions.unlike, "take back NAME's like of URL"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.add_argument("url")
        command.set_defaults(run=with_user(local_user, _simple(action)))
    reading = commands.add_parser("timeline", help="NAME's timeline, newest first")
    reading.add_argument("name")
    reading.add_argument("--kind", choices=[k.value for k in TimelineKind], default=TimelineKind.HOME.value)
    reading.add_argument("--limit", type=limit(MAX_TIMELINE), default=20)
    reading.add_argument("--json", action="store_true")
    reading.set_defaults(run=with_user(local_user, _timeline))
    notes = commands.add_parser("notifications", help="NAME's notifications, newest first")
    notes.add_argument("name")
    notes.add_argument("--limit", type=limit(MAX_NOTIFICATIONS), default=40)
    notes.add_argument("--json", action="store_true")
    notes.set_defaults(run=with_user(local_user, _notifications))


def with_user(local_user: Any, action: Any) -> Any:
    async def run(config: Config, args: argparse.Namespace) -> int:
        async with open_context(config) as ctx:
            account = await local_user(ctx, args.name)
            return await action(ctx, account, args)

    return run


def _simple(action: Any) -> Any:
    async def run(ctx: Context, account: Account, args: argparse.Namespace) -> int:
        result = await action(ctx, account, args.url)
        print(result.uri if isinstance(result, Status) else result)
        return 0

    return run


async def _post(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    images = pair_images(args.image, args.alt)
    at = scheduled.parse_time(args.at) if args.at else None
    quoted = await quotes.find(ctx, args.quote) if args.quote else None
    media = await upload_images(ctx, account, images)
    try:
        if at is not None:
            if quoted is not None:
                raise UsageError("a quote cannot be scheduled")
            return await _schedule(ctx, account, args, at, [m.id for m in media])
        status = await posts.post(
            ctx,
            account,
            args.text,
            visibility=args.visibility,
            reply_to=args.reply_to,
            cw=args.cw,
            language=args.language,
            media_ids=[m.id for m in media],
            poll=_poll(args),
            quote=quoted,
            quote_policy=args.quote_policy,
        )
    except BaseException:
        await ctx.media.discard(media)  # nothing posted: nothing left on disk either
        raise
    return await _print_status(ctx, account, status, args.json)


async def _schedule(
    ctx: Context, account: Account, args: argparse.Namespace, at: datetime, media_ids: list[int]
) -> int:
    """`post --at`: kept for its time; the last line is the scheduled post's id."""
    parent = None
    if args.reply_to:
        try:
            parent = await ctx.notes.get(args.reply_to)
        except NoteRejected as exc:
            raise UsageError(f"cannot reply to {args.reply_to}: {exc}") from None
    draft = scheduled.Draft.with_poll(
        _poll(args),
        text=args.text,
        visibility=args.visibility,
        spoiler_text=args.cw,
        sensitive=bool(args.cw),
        language=args.language,
        in_reply_to_id=parent.id if parent else None,
        media_ids=media_ids,
    )
    row = await scheduled.schedule(ctx, account, draft, at)
    if args.json:
        from .scheduled import scheduled_row

        print(json.dumps(scheduled_row(row), indent=2))
    else:
        print(f"scheduled for {iso(row.scheduled_at)}")
    print(row.id)
    return 0


def _poll(args: argparse.Namespace) -> PollSpec | None:
    if not args.poll:
        return None
    return PollSpec(args.poll, args.poll_expires, args.poll_multiple, args.poll_hide_totals)


async def _edit(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    status = await posts.edit(ctx, account, args.url, args.text)
    return await _print_status(ctx, account, status, args.json)


async def _print_status(ctx: Context, account: Account, status: Status, as_json: bool) -> int:
    if as_json:
        async with ctx.db.read() as session:
            print(json.dumps(await posts.note_document(ctx, session, status, account), indent=2))
    print(status.uri)
    return 0


async def _timeline(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    """Pages internally, so any --limit up to MAX_TIMELINE works."""
    limit = args.limit
    items: list[TimelineItem] = []
    max_id = None
    async with ctx.db.read() as session:
        while len(items) < limit:
            page = await timeline(
                session, account, TimelineKind(args.kind), limit=min(PAGE, limit - len(items)), max_id=max_id
            )
            if not page:
                break
            items += page
            max_id = page[-1].status.id
        media: dict[int, list[MediaAttachment]] = {}
        ids = [item.note.id for item in items]
        for start in range(0, len(ids), PAGE):  # a page's worth per query, however long the list
            media.update(await attachments_of(session, ids[start : start + PAGE]))
    rows = [_timeline_row(ctx, item, media.get(item.note.id, [])) for item in items]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        prefix = f"[boosted by {row['boosted_by']}] " if row.get("boosted_by") else ""
        images = f" [{len(row['attachments'])} image(s)]" if row["attachments"] else ""
        print(f"{row['published']}  {row['author']}: {prefix}{plain_text(row['content'])[:200]}{images}")
        print(f"    {row['id']}")
    return 0


def _handle(ctx: Context, account: Account) -> str:
    return f"{account.username}@{account.domain or ctx.urls.domain}"


def _timeline_row(ctx: Context, item: TimelineItem, media: list[MediaAttachment]) -> dict[str, Any]:
    note = item.note
    row = {
        "id": note.uri,
        "url": note.url or note.uri,
        "author": _handle(ctx, item.note_author),
        "content": note.content,
        "summary": note.summary or None,
        "published": iso(note.published),
        "edited": iso(note.edited_at) if note.edited_at else None,
        "in_reply_to": note.in_reply_to_uri,
        "visibility": note.visibility,
        "likes": note.favourites_count,
        "boosts": note.reblogs_count,
        "replies": note.replies_count,
        # Spark's own URL, for remote images too (the proxy): never the origin's.
        "attachments": [
            {
                "url": ctx.urls.media(m.id),
                "media_type": m.media_type,
                "description": m.description,
                "width": m.width,
                "height": m.height,
            }
            for m in media
        ],
    }
    if item.is_boost:
        row["boosted_by"] = _handle(ctx, item.author)
        row["boost_id"] = item.status.uri
    return row


async def _notifications(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    async with ctx.db.read() as session:
        items = await notifications(session, account, limit=args.limit)
    rows = [
        {
            "type": item.notification.type,
            "account": _handle(ctx, item.sender),
            "status": item.status.uri if item.status else None,
            "created_at": iso(item.notification.created_at),
        }
        for item in items
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['created_at']}  {row['type']:<15} {row['account']}  {row['status'] or ''}".rstrip())
    return 0
