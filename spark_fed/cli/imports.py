"""`spark-fed import twitter|mastodon NAME ARCHIVE.zip`: an archive as backdated posts.

A progress bar (rich) on a terminal, nothing otherwise; at the end the summary, and with
`--json` the summary as one JSON object on the last line.
"""

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..config import Config
from ..context import Context, open_context
from ..errors import UsageError
from ..models import Account

LocalUser = Callable[[Context, str], Awaitable[Account]]


def add_commands(commands: Any, local_user: LocalUser) -> None:
    importing = commands.add_parser("import", help="import an archive as backdated posts").add_subparsers(
        dest="import_command", required=True
    )
    for kind, text in (
        ("twitter", "a Twitter/X archive (the zip of 'Download an archive of your data')"),
        ("mastodon", "a Mastodon archive (outbox.json, actor.json, media_attachments/)"),
    ):
        command = importing.add_parser(kind, help=f"import {text} into NAME's account")
        command.add_argument("name")
        command.add_argument("archive", type=Path)
        command.add_argument(
            "--profile", action="store_true", help="apply the archive's display name and bio"
        )
        command.add_argument(
            "--announce", action="store_true", help="send the posts to followers too, slowly (default: not)"
        )
        command.add_argument("--json", action="store_true", help="print the summary as JSON on the last line")

        async def run(config: Config, args: argparse.Namespace, kind: str = kind) -> int:
            return await _run(config, args, kind, local_user)

        command.set_defaults(run=run)


class _Bar:
    """rich's progress bar on standard error, on a terminal only."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
            console=__import__("rich.console", fromlist=["Console"]).Console(file=sys.stderr),
        )
        self.task = self.progress.add_task("import", total=None)

    def __enter__(self) -> "_Bar":
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def __call__(self, update: Any) -> None:
        self.progress.update(self.task, completed=update.done, total=update.total)


async def _run(config: Config, args: argparse.Namespace, kind: str, local_user: LocalUser) -> int:
    from outbox.imports import import_archive

    if not args.archive.is_file():
        raise UsageError(f"no such file: {args.archive}")
    bar = _Bar() if sys.stderr.isatty() else None
    async with open_context(config) as ctx:
        account = await local_user(ctx, args.name)
        with bar if bar is not None else nullcontext():
            summary = await import_archive(
                ctx,
                account,
                kind,
                args.archive,
                apply_profile=args.profile,
                announce=args.announce,
                progress=bar,
            )
    result = summary.as_dict()
    print(
        f"imported {result['imported']} posts into {account.username} "
        f"({result['already_imported']} already imported, {result['skipped_retweets']} "
        f"{'retweets' if kind == 'twitter' else 'boosts'} skipped, {result['replies_to_others']} replies to "
        f"others, {result['pictures']} pictures, {len(result['errors'])} errors)"
    )
    for error in result["errors"]:
        print(f"  {error['id']}: {error['reason']}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0
