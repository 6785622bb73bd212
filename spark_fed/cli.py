"""The `spark-fed` command: the second wiring module, beside app.py.

Commands call the same services as the routes; this module only parses
arguments, prints, and maps errors to exit statuses (2 for bad input or
configuration, 1 for a failure of the server or the network).
"""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from . import __version__
from .accounts import create_local_user
from .config import Config, load_config
from .db import Database
from .errors import ConfigError, UsageError
from .migrations import upgrade
from .models import Account
from .queries.accounts import list_local_users
from .urls import Urls

Command = Callable[[Config, argparse.Namespace], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark-fed", description="Spark, a microblogging server.")
    parser.add_argument(
        "--config", help="configuration file (default: $SPARK_CONFIG, else built-in defaults)"
    )
    parser.add_argument("--version", action="version", version=f"spark-fed {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("serve", help="run the server until SIGTERM or SIGINT").set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply the schema migrations").set_defaults(run=cmd_db_upgrade)

    users = commands.add_parser("users", help="local accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a local account")
    create.add_argument("name")
    create.add_argument("--display-name", default="")
    create.add_argument("--bio", default="")
    create.add_argument("--locked", action="store_true", help="review follow requests by hand")
    create.set_defaults(run=cmd_users_create)
    listing = users.add_parser("list", help="list local accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_users_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # A command's output is for people and scripts; only the server logs its routine.
    level = logging.INFO if args.run is cmd_serve else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        if args.run is cmd_serve:
            return cmd_serve(config, args)
        return asyncio.run(args.run(config, args))
    except (ConfigError, UsageError) as exc:
        print(f"spark-fed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_serve(config: Config, _args: argparse.Namespace) -> int:
    from .app import create_app

    web.run_app(
        create_app(config),
        host=config.server.host,
        port=config.server.port,
        print=lambda _msg: logging.getLogger("spark_fed").info(
            "serving %s on http://%s:%d", config.base_url, config.server.host, config.server.port
        ),
        access_log_format='%a "%r" %s %b %Tfs',
    )
    return 0


async def _open_database(config: Config) -> Database:
    """Connect, failing with one line, and bring the schema up to date."""
    db = Database(config.database.url)
    try:
        await db.check_connection()
        await upgrade(db)
    except BaseException:
        await db.dispose()
        raise
    return db


async def cmd_db_upgrade(config: Config, _args: argparse.Namespace) -> int:
    db = await _open_database(config)
    await db.dispose()
    print(f"database {db.safe_url} is up to date")
    return 0


async def cmd_users_create(config: Config, args: argparse.Namespace) -> int:
    db = await _open_database(config)
    try:
        account = await create_local_user(
            db, Urls(config), args.name, display_name=args.display_name, bio=args.bio, locked=args.locked
        )
    finally:
        await db.dispose()
    print(f"created @{account.username}@{config.server.domain}")
    print(account.uri)
    return 0


async def cmd_users_list(config: Config, args: argparse.Namespace) -> int:
    db = await _open_database(config)
    try:
        async with db.read() as session:
            accounts = await list_local_users(session)
    finally:
        await db.dispose()
    rows = [_user_row(account, config) for account in accounts]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, ["handle", "display_name", "locked", "created_at"])
    return 0


def _user_row(account: Account, config: Config) -> dict[str, Any]:
    return {
        "username": account.username,
        "handle": f"{account.username}@{config.server.domain}",
        "actor": account.uri,
        "display_name": account.display_name,
        "locked": account.locked,
        "created_at": account.created_at.isoformat().replace("+00:00", "Z"),
    }


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
