"""The remote cache's disk budget, and letting go of files nothing uses any more.

Checked after every remote file is stored, so the budget holds under steady
traffic, not only after a nightly job: while the cached remote bytes exceed
it, the least recently shown files go first. Never counted and never evicted:
local uploads, and remote media of posts that local users replied to, liked
or reposted (someone here chose to keep that post). An evicted file's row
stays, in state `pending`, and the proxy fetches it again when it is shown.
"""

from datetime import datetime

from sqlalchemy import exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..db import Database
from ..models import Account, Favourite, MediaAttachment, Status
from ..models.media import FetchState
from .storage import MediaStore

EVICT_BATCH = 200


def _kept_by_local_users():
    """Remote media whose post a local user replied to, liked or reposted."""
    status = col(MediaAttachment.status_id)
    local_account = select(Account.id).where(col(Account.domain).is_(None))
    liked = exists().where(Favourite.status_id == status, col(Favourite.account_id).in_(local_account))
    shared = exists().where(
        or_(Status.reblog_of_id == status, Status.in_reply_to_id == status), col(Status.local).is_(True)
    )
    return status.is_not(None) & (liked | shared)


def _cached():
    return col(MediaAttachment.local).is_(False) & col(MediaAttachment.file_key).is_not(None)


async def cached_bytes(session: AsyncSession) -> int:
    """What the budget counts: cached remote files, but those local users kept."""
    query = select(func.coalesce(func.sum(MediaAttachment.size_bytes), 0)).where(
        _cached(), ~_kept_by_local_users()
    )
    return int((await session.exec(query)).one())


async def enforce_budget(db: Database, store: MediaStore, max_bytes: int) -> int:
    """Evict least recently shown files until the cache fits MAX_BYTES; returns how many went."""
    evicted = 0
    while True:
        async with db.read() as session:
            over = await cached_bytes(session) - max_bytes
        if over <= 0:
            return evicted
        async with db.write() as session:
            rows = (
                await session.exec(
                    select(MediaAttachment)
                    .where(_cached(), ~_kept_by_local_users())
                    .order_by(MediaAttachment.last_shown_at, MediaAttachment.id)
                    .limit(EVICT_BATCH)
                )
            ).all()
            keys = []
            for row in rows:
                if over <= 0:
                    break
                over -= row.size_bytes
                keys += file_keys([row])
                row.file_key = row.thumbnail_key = None
                row.fetch_state = FetchState.PENDING
                session.add(row)
                evicted += 1
        await release(db, store, keys)
        if not rows:
            return evicted


async def prune(db: Database, store: MediaStore, *, shown_before: datetime | None) -> int:
    """Empty the remote cache (of files not shown since SHOWN_BEFORE, when given) but what local
    users kept; returns how many files went."""
    query = select(MediaAttachment).where(_cached(), ~_kept_by_local_users())
    if shown_before is not None:
        query = query.where(col(MediaAttachment.last_shown_at) < shown_before)
    async with db.write() as session:
        rows = (await session.exec(query)).all()
        keys = []
        for row in rows:
            keys += file_keys([row])
            row.file_key = row.thumbnail_key = None
            row.fetch_state = FetchState.PENDING
            session.add(row)
    await release(db, store, keys)
    return len(rows)


def file_keys(rows: list[MediaAttachment]) -> list[str]:
    """The stored files of ROWS: each row's original and thumbnail, where it has them."""
    return [key for row in rows for key in (row.file_key, row.thumbnail_key) if key]


async def release(db: Database, store: MediaStore, keys: list[str]) -> None:
    """Delete the files of KEYS that no row uses any more (content addressing shares files)."""
    for key in dict.fromkeys(keys):
        async with db.read() as session:
            used = (
                await session.exec(
                    select(MediaAttachment.id)
                    .where(or_(MediaAttachment.file_key == key, MediaAttachment.thumbnail_key == key))
                    .limit(1)
                )
            ).first()
        if used is None:
            await store.delete(key)
