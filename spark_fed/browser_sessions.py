"""Browsers signed in to the web interface: one row each, found by the SHA-256 of their cookie.

The commands (`spark-fed sessions`), the settings page and a password change
all end sessions here, so a signed-out browser is signed out everywhere at once.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Delete
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .changes import Kind, publish
from .db import Database
from .models import Account, WebSession
from .models.types import utcnow
from .tokens import token_digest

# Writing `last_seen_at` on every page view would make each view a write; this often is enough.
SEEN_EVERY = timedelta(minutes=5)
LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class SignedIn:
    session: WebSession
    account: Account


async def start(db: Database, account: Account, *, user_agent: str, address: str) -> str:
    """A new session for ACCOUNT; returns the cookie value (shown once, stored only as a digest)."""
    token = secrets.token_urlsafe(32)
    async with db.write() as session:
        session.add(
            WebSession(
                token_hash=token_digest(token),
                account_id=account.id,
                csrf_token=secrets.token_urlsafe(32),
                user_agent=user_agent[:512],
                address=address[:64],
            )
        )
    return token


async def find(db: Database, token: str) -> SignedIn | None:
    """The live session behind a cookie; sessions unused for `LIFETIME` have expired."""
    if not token or len(token) > 128:
        return None
    async with db.read() as session:
        row = (
            await session.exec(
                select(WebSession, Account)
                .join(Account, col(Account.id) == col(WebSession.account_id))
                .where(WebSession.token_hash == token_digest(token))
            )
        ).first()
    if row is None:
        return None
    web_session, account = row
    now = utcnow()
    if now - web_session.last_seen_at > LIFETIME:
        await end(db, web_session.account_id, web_session.id)
        return None
    if now - web_session.last_seen_at > SEEN_EVERY:
        await _touch(db, web_session.id)
    return SignedIn(web_session, account)


async def _touch(db: Database, session_id: int) -> None:
    async with db.write() as session:
        row = await session.get(WebSession, session_id)
        if row is not None:
            row.last_seen_at = utcnow()
            session.add(row)


async def list_for(db: Database, account_id: int) -> list[WebSession]:
    async with db.read() as session:
        rows = await session.exec(
            select(WebSession)
            .where(WebSession.account_id == account_id)
            .order_by(col(WebSession.last_seen_at).desc())
        )
        return list(rows.all())


async def end(db: Database, account_id: int, session_id: int) -> bool:
    """End one of ACCOUNT_ID's sessions; False when it has none by that id."""
    async with db.write() as session:
        query = delete(WebSession).where(WebSession.id == session_id, WebSession.account_id == account_id)
        return bool(await _end(session, query))


async def end_all(db: Database, account_id: int, *, keep: int | None = None) -> int:
    """End every session of ACCOUNT_ID but KEEP; returns how many ended."""
    async with db.write() as session:
        return await end_sessions(session, account_id, keep=keep)


async def end_sessions(session: AsyncSession, account_id: int, *, keep: int | None = None) -> int:
    """`end_all` inside a caller's transaction (a password change)."""
    query = delete(WebSession).where(WebSession.account_id == account_id)
    if keep is not None:
        query = query.where(WebSession.id != keep)
    return len(await _end(session, query))


async def _end(session: AsyncSession, query: Delete) -> list[int]:
    """Run the DELETE QUERY of sessions and tell every process which ended; their ids."""
    ended = list((await session.exec(query.returning(col(WebSession.id)))).scalars())
    if ended:
        await publish(session, Kind.SESSIONS, ended)
    return ended
