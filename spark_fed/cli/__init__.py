"""The `spark-fed` command: the second wiring module, beside app.py.

Commands call the same services as the routes; this module only parses
arguments, prints, and maps errors to exit statuses (2 for bad input or
configuration, 1 for a failure of the server or the network).
"""

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .. import __version__
from ..accounts import create_local_user, set_password_hash
from ..config import Config, load_config
from ..context import Context, open_context, open_database
from ..errors import ActorNotFound, ConfigError, UsageError
from ..models import Account, FollowState, User
from ..passwords import WeakPassword, hash_password
from ..queries.accounts import find_local_user, list_local_users, users_of
from ..queries.follows import FOLLOWERS, FOLLOWING, Direction, list_follows
from ..tokens import DEFAULT_SCOPES, create_token, parse_scopes, revoke_token
from ..usernames import check_username
from .output import Parser, iso, print_rows

Command = Callable[[Config, argparse.Namespace], Awaitable[int]]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ARGV: this module's own commands alone when they include ARGV's command.

    The other command modules import the services they call (posting, moderation, media: the
    HTTP client and the federation code under them), which costs a command such as `users list`
    more than its work; they are added when ARGV names none of these commands, or asks for help.
    """
    parser = Parser(prog="spark-fed", description="Spark, a microblogging server.")
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
    create.add_argument("--email", help="for signing in (with the username or it)")
    create.add_argument("--password-stdin", action="store_true", help="read a password from standard input")
    create.set_defaults(run=cmd_users_create)
    password = users.add_parser("set-password", help="set NAME's password, read from standard input")
    password.add_argument("name")
    password.set_defaults(run=cmd_users_set_password)
    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    token = tokens.add_parser("create", help="create an API token for NAME; prints it alone on stdout")
    token.add_argument("name")
    token.add_argument(
        "--scopes", default=DEFAULT_SCOPES, help=f"space-separated (default: {DEFAULT_SCOPES})"
    )
    token.set_defaults(run=cmd_tokens_create)
    tokens.add_parser(
        "revoke", help="revoke the API token read from standard input (so it stays out of `ps`)"
    ).set_defaults(run=cmd_tokens_revoke)
    listing = users.add_parser("list", help="list local accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_users_list)

    commands.add_parser("worker", help="run the delivery and inbox workers only").set_defaults(run=cmd_worker)
    for name, runner, text in (
        ("follow", cmd_follow, "follow HANDLE (user@host, @user@host or an actor URL) as NAME"),
        ("unfollow", cmd_unfollow, "stop following HANDLE"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("name")
        command.add_argument("handle")
        command.set_defaults(run=runner)
    for name, runner in (("followers", cmd_followers), ("following", cmd_following)):
        command = commands.add_parser(name, help=f"list the {name} of NAME with their state")
        command.add_argument("name")
        command.add_argument("--json", action="store_true")
        command.set_defaults(run=runner)
    requests = commands.add_parser("follow-requests", help="pending requests to a locked account")
    actions = requests.add_subparsers(dest="requests_command", required=True)
    listing = actions.add_parser("list", help="list pending requests to NAME")
    listing.add_argument("name")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_requests_list)
    for name, runner in (("accept", cmd_requests_accept), ("reject", cmd_requests_reject)):
        command = actions.add_parser(name, help=f"{name} HANDLE's request to follow NAME")
        command.add_argument("name")
        command.add_argument("handle")
        command.set_defaults(run=runner)
    if argv is not None and _named_here(argv, commands.choices, users.choices):
        return parser

    from .hosts import add_commands as add_host_commands
    from .imports import add_commands as add_import_commands
    from .marks import add_commands as add_mark_commands
    from .media import add_commands as add_media_commands
    from .moderation import add_commands as add_moderation_commands
    from .posts import add_commands as add_post_commands
    from .safety import add_commands as add_safety_commands
    from .scheduled import add_commands as add_scheduled_commands
    from .sessions import add_commands as add_session_commands

    add_post_commands(commands, _local_user)
    add_scheduled_commands(commands, _local_user)
    add_session_commands(commands, users, _local_user)
    add_media_commands(commands)
    add_import_commands(commands, _local_user)
    add_safety_commands(commands, _local_user)
    add_mark_commands(commands, _local_user)
    add_moderation_commands(commands, users)
    add_host_commands(commands)
    return parser


def _named_here(argv: Sequence[str], commands: dict[str, Any], users: dict[str, Any]) -> bool:
    """Whether ARGV's command (and, for `users`, its subcommand) is one this module defines.

    `users` is the one group the other modules add to (`users approve`, `users set-role`).
    Help (-h anywhere) takes the full parser, so that it lists every command.
    """
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-h", "--help"):
            return False
        elif arg == "--config":
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    if not words or words[0] not in commands:
        return False
    return words[0] != "users" or (len(words) > 1 and words[1] in users)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
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
    except ActorNotFound as exc:
        print(f"spark-fed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from ..app import create_app
    from ..serving import check_port, migrate_in_child, serve, without_docstrings

    without_docstrings(args.config)
    check_port(config)
    migrate_in_child(args.config)
    return serve(config, lambda: create_app(config, migrate=False))


async def cmd_db_upgrade(config: Config, _args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        print(f"database {ctx.db.safe_url} is up to date")
    return 0


async def cmd_users_create(config: Config, args: argparse.Namespace) -> int:
    check_username(args.name)
    password_hash = await _password_hash(config) if args.password_stdin else None
    async with open_context(config) as ctx:
        account = await create_local_user(
            ctx.db,
            ctx.urls,
            args.name,
            display_name=args.display_name,
            bio=args.bio,
            locked=args.locked,
            email=args.email,
            password_hash=password_hash,
        )
    print(f"created @{account.username}@{config.server.domain}")
    print(account.uri)
    return 0


async def _password_hash(config: Config) -> str:
    """A password from standard input (its first line), hashed; read before any database work."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        return await hash_password(config.auth, password)
    except WeakPassword as exc:
        raise UsageError(str(exc)) from None


async def cmd_users_set_password(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx:
        account = await _local_user(ctx, args.name)
        await set_password_hash(ctx.db, account, await _password_hash(config))
    print(f"password set for {account.username}")
    return 0


async def cmd_tokens_create(config: Config, args: argparse.Namespace) -> int:
    scopes = parse_scopes(args.scopes)
    async with open_context(config) as ctx:
        account = await _local_user(ctx, args.name)
        token = await create_token(ctx.db, account, scopes)
    # The token alone on stdout, so that TOKEN=$(spark-fed tokens create NAME) works.
    print(f"token for {account.username} with scopes {' '.join(scopes)}:", file=sys.stderr)
    print(token)
    return 0


async def cmd_tokens_revoke(config: Config, _args: argparse.Namespace) -> int:
    token = sys.stdin.readline().strip()
    if not token:
        raise UsageError("give the token on standard input")
    async with open_context(config) as ctx:
        if not await revoke_token(ctx.db, token):
            raise UsageError("no live token is that one")
    print("revoked: it no longer works, in any running process")
    return 0


async def cmd_users_list(config: Config, args: argparse.Namespace) -> int:
    async with open_database(config) as db, db.read() as session:
        accounts = await list_local_users(session)
        users = await users_of(session, [a.id for a in accounts])
    rows = [_user_row(account, users.get(account.id), config) for account in accounts]
    print_rows(rows, ["handle", "display_name", "locked", "approved", "created_at"], as_json=args.json)
    return 0


async def cmd_worker(config: Config, _args: argparse.Namespace) -> int:
    from ..app import build_workers, listening

    logging.getLogger().setLevel(logging.INFO)
    async with open_context(config) as ctx, listening(ctx):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        logging.getLogger("spark_fed").info("worker running; SIGTERM or SIGINT stops it")
        await build_workers(ctx).run(stop)
    return 0


async def _local_user(ctx: Context, name: str) -> Account:
    async with ctx.db.read() as session:
        account = await find_local_user(session, name)
    if account is None:
        raise UsageError(f"there is no local user {name!r}")
    return account


async def cmd_follow(config: Config, args: argparse.Namespace) -> int:
    import outbox.actions as actions

    async with open_context(config) as ctx:
        result = await actions.follow(ctx, await _local_user(ctx, args.name), args.handle)
    print(f"{result.follow.state}: {args.name} follows {_handle(result.target, config)}")
    print(result.follow.uri)
    return 0


async def cmd_unfollow(config: Config, args: argparse.Namespace) -> int:
    import outbox.actions as actions

    async with open_context(config) as ctx:
        result = await actions.unfollow(ctx, await _local_user(ctx, args.name), args.handle)
    print(f"{args.name} no longer follows {_handle(result.target, config)}")
    return 0


async def cmd_followers(config: Config, args: argparse.Namespace) -> int:
    return await _list_follows(config, args, FOLLOWERS, None)


async def cmd_following(config: Config, args: argparse.Namespace) -> int:
    return await _list_follows(config, args, FOLLOWING, None)


async def cmd_requests_list(config: Config, args: argparse.Namespace) -> int:
    return await _list_follows(config, args, FOLLOWERS, FollowState.PENDING)


async def _list_follows(
    config: Config, args: argparse.Namespace, direction: Direction, state: FollowState | None
) -> int:
    async with open_context(config) as ctx:
        account = await _local_user(ctx, args.name)
        async with ctx.db.read() as session:
            rows = await list_follows(session, account.id, direction, state)
    listed = [
        {
            "handle": _handle(other, config),
            "actor": other.uri,
            "state": follow.state,
            "since": iso(follow.created_at),
        }
        for follow, other in rows
    ]
    print_rows(listed, ["handle", "state", "since"], as_json=args.json)
    return 0


async def cmd_requests_accept(config: Config, args: argparse.Namespace) -> int:
    return await _answer_request(config, args, accept=True)


async def cmd_requests_reject(config: Config, args: argparse.Namespace) -> int:
    return await _answer_request(config, args, accept=False)


async def _answer_request(config: Config, args: argparse.Namespace, *, accept: bool) -> int:
    import outbox.actions as actions

    async with open_context(config) as ctx:
        account = await _local_user(ctx, args.name)
        result = await actions.answer_follow_request(ctx, account, args.handle, accept=accept)
    print(f"{'accepted' if accept else 'rejected'}: {_handle(result.target, config)} -> {args.name}")
    return 0


def _handle(account: Account, config: Config) -> str:
    return f"{account.username}@{account.domain or config.server.domain}"


def _user_row(account: Account, user: User | None, config: Config) -> dict[str, Any]:
    return {
        "username": account.username,
        "handle": f"{account.username}@{config.server.domain}",
        "actor": account.uri,
        "display_name": account.display_name,
        "locked": account.locked,
        "approved": user.approved if user is not None else True,
        "created_at": iso(account.created_at),
    }
