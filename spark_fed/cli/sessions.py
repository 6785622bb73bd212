"""`spark-fed sessions` (the browsers signed in to the web interface) and `users approve`."""

import argparse
from typing import Any

from .. import browser_sessions
from ..context import Context
from ..errors import UsageError
from ..models import Account, User
from .output import iso, print_rows
from .posts import with_user


def add_commands(commands: Any, users: Any, local_user: Any) -> None:
    """Register the commands; USERS is the `users` command group, LOCAL_USER(ctx, name) finds an account."""
    approve = users.add_parser("approve", help="let NAME, who signed up, sign in")
    approve.add_argument("name")
    approve.set_defaults(run=with_user(local_user, _approve))
    sessions = commands.add_parser("sessions", help="browsers signed in to the web interface")
    actions = sessions.add_subparsers(dest="sessions_command", required=True)
    listing = actions.add_parser("list", help="list NAME's signed-in browsers")
    listing.add_argument("name")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=with_user(local_user, _list))
    revoke = actions.add_parser("revoke", help="sign out one of NAME's browsers (ID) or all of them (--all)")
    revoke.add_argument("name")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int)
    which.add_argument("--all", action="store_true")
    revoke.set_defaults(run=with_user(local_user, _revoke))


async def _approve(ctx: Context, account: Account, _args: argparse.Namespace) -> int:
    async with ctx.db.write() as session:
        user = await session.get(User, account.id)
        if user is None:
            raise UsageError(f"{account.username} has no sign-in to approve")
        user.approved = True
        session.add(user)
    print(f"approved {account.username}: they can sign in now")
    return 0


async def _list(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    rows = [
        {
            "id": s.id,
            "user_agent": s.user_agent,
            "address": s.address,
            "created_at": iso(s.created_at),
            "last_seen_at": iso(s.last_seen_at),
        }
        for s in await browser_sessions.list_for(ctx.db, account.id)
    ]
    print_rows(rows, ["id", "address", "last_seen_at", "user_agent"], as_json=args.json)
    return 0


async def _revoke(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    if args.all:
        ended = await browser_sessions.end_all(ctx.db, account.id)
        print(f"signed out {ended} browser(s) of {account.username}")
        return 0
    if not await browser_sessions.end(ctx.db, account.id, args.id):
        raise UsageError(f"{account.username} has no session {args.id}")
    print(f"signed out session {args.id} of {account.username}")
    return 0
