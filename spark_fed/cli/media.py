"""The media commands of `spark-fed`: what media take on disk, and emptying the remote cache.

`media usage` counts from the rows (each media item is a file and its preview, both in
`size_bytes`); the remote figures are the budget's own (`media.budget.cached_bytes`), so what it
prints is what the budget holds against `[media] remote_cache_max_gb`. Also here: the images of
`spark-fed post --image`, read and uploaded through `ctx.media`, and let go again if the post
is not made.
"""

import argparse
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..config import Config
from ..context import Context, open_context
from ..errors import UsageError
from ..media.budget import cached_bytes, prune
from ..media.processing import MediaRejected
from ..media.service import MAX_ATTACHMENTS, MAX_DESCRIPTION
from ..models import Account, MediaAttachment
from ..models.types import utcnow


def add_commands(commands: Any) -> None:
    media = commands.add_parser("media", help="media files: disk usage, the remote cache").add_subparsers(
        dest="media_command", required=True
    )
    usage = media.add_parser("usage", help="bytes and files of uploads and of the remote cache")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(run=cmd_usage)
    pruning = media.add_parser("prune", help="empty the remote cache (files are fetched again when shown)")
    pruning.add_argument(
        "--older-than", type=float, metavar="DAYS", help="only files not shown for DAYS days"
    )
    pruning.set_defaults(run=cmd_prune)


async def usage_rows(session: AsyncSession, budget_bytes: int) -> list[dict[str, Any]]:
    """One row for local uploads, one for the remote cache (with what local users keep)."""

    async def totals(local: bool) -> tuple[int, int]:
        query = select(func.coalesce(func.sum(MediaAttachment.size_bytes), 0), func.count()).where(
            col(MediaAttachment.local).is_(local), col(MediaAttachment.file_key).is_not(None)
        )
        size, count = (await session.exec(query)).one()
        return int(size), int(count)

    local_bytes, local_files = await totals(True)
    remote_bytes, remote_files = await totals(False)
    counted = await cached_bytes(session)
    return [
        {"store": "local", "bytes": local_bytes, "files": local_files},
        {
            "store": "remote",
            "bytes": remote_bytes,
            "files": remote_files,
            "kept_bytes": remote_bytes - counted,
            "counted_bytes": counted,
            "budget_bytes": budget_bytes,
        },
    ]


async def cmd_usage(config: Config, args: argparse.Namespace) -> int:
    async with open_context(config) as ctx, ctx.db.read() as session:
        rows = await usage_rows(session, config.media.remote_cache_max_bytes)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    local, remote = rows
    print(f"local uploads   {_size(local['bytes']):>10}  in {local['files']} files")
    print(f"remote cache    {_size(remote['bytes']):>10}  in {remote['files']} files")
    print(f"  kept by users {_size(remote['kept_bytes']):>10}  (replied to, liked or reposted: not counted)")
    budget = _size(remote["budget_bytes"])
    print(f"  counted       {_size(remote['counted_bytes']):>10}  of a budget of {budget}")
    return 0


async def cmd_prune(config: Config, args: argparse.Namespace) -> int:
    if args.older_than is not None and not 0 <= args.older_than <= 36_500:
        raise UsageError("--older-than must be a number of days between 0 and 36500")
    shown_before = utcnow() - timedelta(days=args.older_than) if args.older_than is not None else None
    async with open_context(config) as ctx:
        async with ctx.db.read() as session:
            before = await cached_bytes(session)
        removed = await prune(ctx.db, ctx.media.store, shown_before=shown_before)
        async with ctx.db.read() as session:
            after = await cached_bytes(session)
    # What the server fetched meanwhile is not "freed": never print a negative figure.
    freed = max(0, before - after)
    print(f"pruned {removed} remote files, {freed} bytes ({_size(freed)}) freed")
    return 0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def pair_images(images: Sequence[str] | None, alts: Sequence[str] | None) -> list[tuple[Path, str]]:
    """`--image P --alt T ...`: the n-th alt describes the n-th image; checked before any upload."""
    images, alts = list(images or ()), list(alts or ())
    if len(images) > MAX_ATTACHMENTS:
        raise UsageError(f"a post has at most {MAX_ATTACHMENTS} images; {len(images)} given")
    if len(alts) > len(images):
        raise UsageError("there are more --alt than --image: each --alt describes the --image before it")
    for alt in alts:
        if len(alt) > MAX_DESCRIPTION:
            raise UsageError(f"an image description has at most {MAX_DESCRIPTION} characters")
    return [(Path(image), alts[i] if i < len(alts) else "") for i, image in enumerate(images)]


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        if path.stat().st_size > max_bytes:
            raise UsageError(f"{path}: the file is larger than {max_bytes // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None


async def upload_images(
    ctx: Context, account: Account, images: list[tuple[Path, str]]
) -> list[MediaAttachment]:
    """Every image read first (a missing file costs nothing), then uploaded in order; a refused
    one names its file, and what was uploaded before it is let go."""
    contents = [(path, _read(path, ctx.config.media.max_upload_bytes), alt) for path, alt in images]
    uploaded: list[MediaAttachment] = []
    try:
        for path, data, alt in contents:
            try:
                uploaded.append(await ctx.media.upload(account, data, description=alt))
            except MediaRejected as exc:
                raise UsageError(f"{path}: {exc}") from None
    except BaseException:
        await ctx.media.discard(uploaded)
        raise
    return uploaded
