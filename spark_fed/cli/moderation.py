"""The moderation commands of `spark-fed`: roles, reports, domain blocks and account actions.

    spark-fed users set-role NAME admin|moderator|user
    spark-fed reports list [--json] [--all] | show ID [--json] | resolve ID [--note TEXT]
    spark-fed domains block HOST [--severity silence|suspend|reject-media] [--reason TEXT]
                                 [--public-comment TEXT] | unblock HOST | list [--json] | import FILE
    spark-fed moderation silence|unsilence|suspend|unsuspend HANDLE [--reason TEXT] [--report ID]
    spark-fed moderation purge [--older-than DAYS]

Whoever runs `spark-fed` owns the server: these act with no moderator account (logged so).
"""

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import outbox.moderation as moderation

from ..config import Config
from ..context import Context, open_context
from ..errors import UsageError
from ..models import Account, DomainBlock, Report
from ..queries.accounts import find_by_uri, find_local_user, find_remote_by_handle
from ..queries.moderation import list_domain_blocks, list_reports, report_details
from .output import iso, limit, print_rows

MAX_IMPORT_BYTES = 16 * 1024 * 1024


def add_commands(commands: Any, users: Any) -> None:
    """USERS is the `users` command's subparsers (for `users set-role`)."""
    role = users.add_parser("set-role", help="make NAME an admin, a moderator or a plain user")
    role.add_argument("name")
    role.add_argument("role", choices=moderation.ROLES)
    role.set_defaults(run=cmd_set_role)

    reports = commands.add_parser("reports", help="reports of accounts and posts").add_subparsers(
        dest="reports_command", required=True
    )
    listing = reports.add_parser("list", help="open reports, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--all", action="store_true", help="resolved ones too")
    listing.add_argument("--limit", type=limit(200), default=100)
    listing.set_defaults(run=cmd_reports_list)
    show = reports.add_parser("show", help="one report with the reported posts")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_reports_show)
    resolve = reports.add_parser("resolve", help="mark a report resolved")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--note", default="")
    resolve.set_defaults(run=cmd_reports_resolve)

    domains = commands.add_parser("domains", help="the instance's domain blocks").add_subparsers(
        dest="domains_command", required=True
    )
    block = domains.add_parser("block", help="block HOST and its subdomains (default severity: silence)")
    block.add_argument("host")
    block.add_argument("--severity", default="silence", choices=moderation.SEVERITIES)
    block.add_argument("--reason", default="", help="private: for moderators")
    block.add_argument("--public-comment", default="", help="shown in /api/v1/instance/domain_blocks")
    block.set_defaults(run=cmd_domains_block)
    unblock = domains.add_parser("unblock", help="lift the block of HOST")
    unblock.add_argument("host")
    unblock.set_defaults(run=cmd_domains_unblock)
    blocks = domains.add_parser("list", help="the domain blocks")
    blocks.add_argument("--json", action="store_true")
    blocks.set_defaults(run=cmd_domains_list)
    importing = domains.add_parser("import", help="import Mastodon's domain-block CSV export")
    importing.add_argument("file")
    importing.set_defaults(run=cmd_domains_import)

    actions = commands.add_parser("moderation", help="silence or suspend accounts").add_subparsers(
        dest="moderation_command", required=True
    )
    for name, runner, text in (
        ("silence", cmd_silence, "limit HANDLE: out of public timelines and search"),
        ("unsilence", cmd_unsilence, "lift HANDLE's limit"),
        ("suspend", cmd_suspend, "suspend HANDLE (local: 410, Delete to followers; remote: refused, purged)"),
        ("unsuspend", cmd_unsuspend, "lift HANDLE's suspension"),
    ):
        command = actions.add_parser(name, help=text)
        command.add_argument("handle")
        command.add_argument("--reason", default="")
        command.add_argument("--report", type=int, help="the report this action answers")
        command.set_defaults(run=runner)
    purge = actions.add_parser("purge", help="remove the data of accounts suspended for the grace period")
    purge.add_argument(
        "--older-than",
        type=float,
        default=moderation.GRACE_PERIOD.days,
        metavar="DAYS",
        help=f"suspended at least DAYS days ago (default {moderation.GRACE_PERIOD.days})",
    )
    purge.set_defaults(run=cmd_purge)


def _handle(account: Account | None, config: Config) -> str:
    if account is None:
        return "(deleted)"
    return f"{account.username}@{account.domain or config.server.domain}"


async def cmd_set_role(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        async with ctx.db.read() as session:
            account = await find_local_user(session, args.name)
        if account is None:
            raise UsageError(f"there is no local user {args.name!r}")
        await moderation.set_role(ctx, account, args.role)
    print(f"{account.username} is now {'a' if args.role != 'admin' else 'an'} {args.role}")
    return 0


def _report_row(report: Report, accounts: dict[int, Account], config: Config) -> dict[str, Any]:
    return {
        "id": report.id,
        "reporter": _handle(accounts.get(report.account_id), config),
        "target": _handle(accounts.get(report.target_account_id), config),
        "target_actor": target.uri if (target := accounts.get(report.target_account_id)) else None,
        "category": report.category,
        "comment": report.comment,
        "status_ids": [int(s) for s in report.status_ids.replace(",", " ").split() if s.isdigit()],
        "rule_ids": [r for r in report.rule_ids.replace(",", " ").split() if r],
        "forwarded": report.forwarded,
        "uri": report.uri,
        "created_at": iso(report.created_at),
        "resolved": report.resolved_at is not None,
        "resolved_at": iso(report.resolved_at) if report.resolved_at else None,
        "resolution": report.resolution,
    }


async def cmd_reports_list(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx, ctx.db.read() as session:
        reports = await list_reports(session, resolved=None if args.all else False, limit=args.limit)
        ids = {i for r in reports for i in (r.account_id, r.target_account_id)}
        accounts = {i: a for i in ids if (a := await session.get(Account, i)) is not None}
    rows = [_report_row(r, accounts, config) for r in reports]
    print_rows(rows, ["id", "target", "reporter", "category", "resolved", "created_at"], as_json=args.json)
    return 0


async def cmd_reports_show(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx, ctx.db.read() as session:
        details = await report_details(session, args.id)
    if details is None:
        raise UsageError(f"there is no report {args.id}")
    accounts = {a.id: a for a in (details.reporter, details.target) if a is not None}
    row = _report_row(details.report, accounts, config)
    row["statuses"] = [
        {"id": s.id, "uri": s.uri, "url": s.url, "content": s.content, "published": iso(s.published)}
        for s in details.statuses
    ]
    row["resolved_by"] = _handle(details.resolved_by, config) if details.resolved_by else None
    if args.json:
        print(json.dumps(row, indent=2))
        return 0
    for key in ("id", "target", "reporter", "category", "comment", "created_at", "resolved", "resolution"):
        print(f"{key:12} {row[key]}")
    for status in row["statuses"]:
        print(f"post         {status['uri']}\n             {status['content']}")
    return 0


async def cmd_reports_resolve(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        report = await moderation.resolve_report(ctx, None, args.id, args.note)
    print(f"report {report.id} resolved")
    return 0


def _block_row(block: DomainBlock) -> dict[str, Any]:
    return {
        "domain": block.domain,
        "severity": block.severity,
        "reason": block.reason,
        "public_comment": block.public_comment,
        "created_at": iso(block.created_at),
    }


async def cmd_domains_block(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        block = await moderation.block_domain(
            ctx,
            None,
            args.host,
            severity=args.severity,
            reason=args.reason,
            public_comment=args.public_comment,
        )
    print(f"{block.domain}: {block.severity}")
    return 0


async def cmd_domains_unblock(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        await moderation.unblock_domain(ctx, None, args.host)
    print(f"{moderation.check_domain(args.host)}: unblocked")
    return 0


async def cmd_domains_list(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx, ctx.db.read() as session:
        blocks = await list_domain_blocks(session)
    print_rows([_block_row(b) for b in blocks], ["domain", "severity", "created_at"], as_json=args.json)
    return 0


async def cmd_domains_import(config: Config, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise UsageError(f"{path}: the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: is not UTF-8 text") from None
    moderation.parse_domain_blocks_csv(text)  # bad input stops here, before the database opens
    async with open_context(config) as ctx:
        count = await moderation.import_domain_blocks(ctx, None, text)
    print(f"imported {count} domain blocks")
    return 0


async def find_account(ctx: Context, handle: str) -> Account:
    """A local NAME (or NAME@our.domain), a known remote user@host or actor URL; an unknown
    remote one is looked up (WebFinger, then its actor)."""
    text = handle.strip().removeprefix("@")
    async with ctx.db.read() as session:
        if text.startswith(("http://", "https://")):
            found = await find_by_uri(session, text)
        else:
            name, _, domain = text.partition("@")
            if not domain or domain.lower() == ctx.config.server.domain.lower():
                found = await find_local_user(session, name)
                if found is None:
                    raise UsageError(f"there is no local user {name!r}")
            else:
                found = await find_remote_by_handle(session, name, domain)
    if found is None:
        found = await ctx.actors.by_handle_or_url(handle)
    return found


def _account_action(action: Callable[..., Awaitable[None]], done: str):
    async def run(config: Config, args: argparse.Namespace) -> int:
        async with open_context(config) as ctx:
            account = await find_account(ctx, args.handle)
            await action(ctx, None, account, reason=args.reason, report_id=args.report)
        print(f"{_handle(account, config)}: {done}")
        return 0

    return run


cmd_silence = _account_action(moderation.silence, "silenced")
cmd_unsilence = _account_action(moderation.unsilence, "no longer silenced")
cmd_suspend = _account_action(moderation.suspend, "suspended")
cmd_unsuspend = _account_action(moderation.unsuspend, "no longer suspended")


async def cmd_purge(config: Config, args: argparse.Namespace) -> int:
    if not 0 <= args.older_than <= 36_500:
        raise UsageError("--older-than must be a number of days between 0 and 36500")
    async with open_context(config) as ctx:
        count = await moderation.purge_suspended(ctx, older_than=timedelta(days=args.older_than))
    print(f"purged the data of {count} suspended accounts")
    return 0
