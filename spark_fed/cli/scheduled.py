"""`spark-fed scheduled NAME`: the posts NAME has scheduled (`spark-fed post … --at TIME` makes them)."""

import argparse
from typing import Any

from outbox import scheduled

from ..context import Context
from ..models import Account, ScheduledStatus
from ..queries.paging import Cursor
from ..queries.scheduled import scheduled_of
from .output import iso, print_rows
from .posts import with_user

COLUMNS = ["id", "scheduled_at", "visibility", "text"]


def add_commands(commands: Any, local_user: Any) -> None:
    listing = commands.add_parser("scheduled", help="NAME's scheduled posts, soonest first")
    listing.add_argument("name")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=with_user(local_user, _list))


async def _list(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    rows: list[ScheduledStatus] = []
    cursor = Cursor()
    async with ctx.db.read() as session:
        while page := await scheduled_of(session, account.id, 100, cursor):
            rows += page
            cursor = Cursor(max_id=page[-1].id)
    rows.sort(key=lambda row: row.scheduled_at)
    print_rows([scheduled_row(row) for row in rows], COLUMNS, as_json=args.json)
    return 0


def scheduled_row(row: ScheduledStatus) -> dict[str, Any]:
    draft = scheduled.Draft.from_json(row.params)
    return {
        "id": str(row.id),
        "scheduled_at": iso(row.scheduled_at),
        "visibility": draft.visibility,
        "text": draft.text,
        "spoiler_text": draft.spoiler_text,
        "in_reply_to_id": str(draft.in_reply_to_id) if draft.in_reply_to_id else None,
        "media_ids": [str(i) for i in draft.media_ids],
    }
