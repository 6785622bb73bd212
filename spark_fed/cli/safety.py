"""The safety commands of `spark-fed`: block, unblock, mute, unmute, report, blocks, mutes."""

import argparse
from typing import Any

import outbox.safety as safety

from ..context import Context
from ..models import Account, ReportCategory
from ..queries.safety import list_blocks, list_mutes
from .output import iso, print_rows
from .posts import with_user

PAGE = 200


def add_commands(commands: Any, local_user: Any) -> None:
    """Register the commands; LOCAL_USER(ctx, name) finds the acting account."""
    for name, runner, text in (
        ("block", _block, "block HANDLE as NAME (sends Block; follows both ways end)"),
        ("unblock", _unblock, "take back NAME's block of HANDLE (sends Undo)"),
        ("mute", _mute, "mute HANDLE for NAME (nothing is sent)"),
        ("unmute", _unmute, "take back NAME's mute of HANDLE"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.add_argument("handle")
        if name == "mute":
            command.add_argument(
                "--duration", metavar="SECONDS|30m|2h|7d", help="the mute ends by itself after this"
            )
            command.add_argument(
                "--keep-notifications", action="store_true", help="still show their notifications"
            )
        command.set_defaults(run=with_user(local_user, runner))
    report = commands.add_parser(
        "report", help="report HANDLE to the moderators as NAME; prints the report id"
    )
    report.add_argument("name")
    report.add_argument("handle")
    report.add_argument(
        "--post", action="append", default=[], metavar="URL", help="a post of theirs (repeatable)"
    )
    report.add_argument("--comment", default="", metavar="TEXT")
    report.add_argument(
        "--category", choices=[c.value for c in ReportCategory], default=ReportCategory.OTHER.value
    )
    report.add_argument("--rule", action="append", type=int, default=[], metavar="ID", help="a rule broken")
    report.add_argument("--forward", action="store_true", help="also send it to a remote account's server")
    report.set_defaults(run=with_user(local_user, _report))
    for name, runner in (("blocks", _blocks), ("mutes", _mutes)):
        command = commands.add_parser(name, help=f"list NAME's {name}, newest first")
        command.add_argument("name")
        command.add_argument("--json", action="store_true")
        command.set_defaults(run=with_user(local_user, runner))


def _handle(ctx: Context, account: Account) -> str:
    return f"{account.username}@{account.domain or ctx.urls.domain}"


async def _block(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    row = await safety.block(ctx, account, args.handle)
    print(f"{account.username} blocks {args.handle}")
    print(row.uri)
    return 0


async def _unblock(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    await safety.unblock(ctx, account, args.handle)
    print(f"{account.username} no longer blocks {args.handle}")
    return 0


async def _mute(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    duration = safety.parse_duration(args.duration) if args.duration else None
    row = await safety.mute(
        ctx, account, args.handle, notifications=not args.keep_notifications, duration=duration
    )
    until = f" until {iso(row.expires_at)}" if row.expires_at else ""
    print(f"{account.username} mutes {args.handle}{until}")
    return 0


async def _unmute(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    await safety.unmute(ctx, account, args.handle)
    print(f"{account.username} no longer mutes {args.handle}")
    return 0


async def _report(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    row = await safety.report(
        ctx,
        account,
        args.handle,
        status_urls=args.post,
        category=args.category,
        comment=args.comment,
        rule_ids=args.rule,
        forward=args.forward,
    )
    print(f"reported {args.handle}" + (" (forwarded to its server)" if row.forwarded else ""))
    print(row.id)
    return 0


async def _blocks(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    max_id = None
    async with ctx.db.read() as session:
        while page := await list_blocks(session, account.id, limit=PAGE, max_id=max_id):
            rows += [
                {
                    "handle": _handle(ctx, other),
                    "actor": other.uri,
                    "id": block.uri,
                    "since": iso(block.created_at),
                }
                for block, other in page
            ]
            max_id = page[-1][0].id
    print_rows(rows, ["handle", "since"], as_json=args.json)
    return 0


async def _mutes(ctx: Context, account: Account, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    max_id = None
    async with ctx.db.read() as session:
        while page := await list_mutes(session, account.id, limit=PAGE, max_id=max_id):
            rows += [
                {
                    "handle": _handle(ctx, other),
                    "actor": other.uri,
                    "notifications": mute.notifications,
                    "expires_at": iso(mute.expires_at) if mute.expires_at else None,
                    "since": iso(mute.created_at),
                }
                for mute, other in page
            ]
            max_id = page[-1][0].id
    print_rows(rows, ["handle", "notifications", "expires_at", "since"], as_json=args.json)
    return 0
