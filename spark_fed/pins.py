"""Pinned posts' rows: the one place that writes `status_pins`, for local pins and remote ones.

A local user's pin is an action (`outbox/pins.py` checks the rules and tells followers); a remote
account's pins arrive as `Add`/`Remove` activities or are read from its `featured` collection
(`spark_fed/federation/featured.py`). Both end here.
"""

from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Account, StatusPin

MAX_PINS = 5
"""How many posts a local user may pin (Mastodon's limit too)."""

MAX_REMOTE_PINS = 10
"""How many of a remote account's pins are kept: its collection could list any number."""


def featured_url(account: Account) -> str | None:
    """The URL of ACCOUNT's `featured` collection: Spark's own for a local account."""
    if account.is_local:
        return f"{account.uri}/collections/featured"
    return account.featured_url


async def pin_count(session: AsyncSession, account_id: int) -> int:
    query = select(func.count()).select_from(StatusPin).where(StatusPin.account_id == account_id)
    return (await session.exec(query)).one()


async def is_pinned(session: AsyncSession, account_id: int, status_id: int) -> bool:
    query = select(StatusPin.id).where(StatusPin.account_id == account_id, StatusPin.status_id == status_id)
    return (await session.exec(query)).first() is not None


async def add_pin(session: AsyncSession, account_id: int, status_id: int) -> bool:
    """Pin STATUS_ID on ACCOUNT_ID's profile; False when it was pinned already."""
    if await is_pinned(session, account_id, status_id):
        return False
    session.add(StatusPin(account_id=account_id, status_id=status_id))
    await session.flush()
    return True


async def remove_pin(session: AsyncSession, account_id: int, status_id: int) -> bool:
    """Unpin; False when it was not pinned."""
    statement = delete(StatusPin).where(
        col(StatusPin.account_id) == account_id, col(StatusPin.status_id) == status_id
    )
    return (await session.exec(statement)).rowcount > 0


async def replace_pins(session: AsyncSession, account_id: int, status_ids: Sequence[int]) -> None:
    """A remote account's pins become STATUS_IDS (its collection lists the newest first): those
    no longer listed go, new ones are added oldest first so the newest has the highest id."""
    wanted = list(dict.fromkeys(status_ids))[:MAX_REMOTE_PINS]
    await session.exec(
        delete(StatusPin).where(
            col(StatusPin.account_id) == account_id, col(StatusPin.status_id).not_in(wanted)
        )
    )
    kept = set(
        (await session.exec(select(StatusPin.status_id).where(StatusPin.account_id == account_id))).all()
    )
    for status_id in reversed(wanted):
        if status_id not in kept:
            session.add(StatusPin(account_id=account_id, status_id=status_id))
    await session.flush()
