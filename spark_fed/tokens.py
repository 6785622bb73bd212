"""Bearer tokens and OAuth scopes, as Mastodon defines them.

A token is shown once and stored only as its SHA-256, so the database is
not a list of working credentials.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import col, select

from .changes import Kind, publish
from .db import Database
from .errors import UsageError
from .models import AccessToken, Account
from .models.types import utcnow

TOP_SCOPES = ("read", "write", "follow", "push", "profile")
READ = (
    "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
    "notifications", "search", "statuses",
)  # fmt: skip
WRITE = (
    "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
    "media", "mutes", "notifications", "reports", "statuses",
)  # fmt: skip
KNOWN_SCOPES = frozenset([*TOP_SCOPES, *(f"read:{s}" for s in READ), *(f"write:{s}" for s in WRITE)])
DEFAULT_SCOPES = "read write follow"
# `follow` is Mastodon's old name for these: a token with it may do them.
FOLLOW_IMPLIES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)


class InvalidScope(UsageError):
    """A scope Mastodon does not define."""


def parse_scopes(text: str | None) -> list[str]:
    scopes = list(dict.fromkeys((text or DEFAULT_SCOPES).replace("+", " ").split()))
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise InvalidScope(f"unknown scope {unknown[0]!r}")
    return scopes


def allows(granted: list[str], needed: str) -> bool:
    """Whether GRANTED covers NEEDED (`read` covers `read:statuses`; `follow` the follow scopes)."""
    if needed in granted or needed.split(":", 1)[0] in granted:
        return True
    return "follow" in granted and needed in FOLLOW_IMPLIES


def token_digest(token: str) -> str:
    """The stored form of a token. A cookie or header with bytes that are not UTF-8 reaches us with
    surrogates in place of those bytes: it digests to what no issued token does, never an error."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_token(
    db: Database, account: Account | None, scopes: list[str], app_id: int | None = None
) -> str:
    token = secrets.token_urlsafe(32)
    async with db.write() as session:
        session.add(AccessToken(token_hash=token_digest(token), account_id=account.id if account else None,
                                app_id=app_id, scopes=" ".join(scopes)))  # fmt: skip
    return token


@dataclass(frozen=True)
class Bearer:
    token: AccessToken
    account: Account | None

    @property
    def scopes(self) -> list[str]:
        return self.token.scopes.split()


async def find_token(db: Database, token: str) -> Bearer | None:
    """The live token TOKEN names (not revoked), with its account."""
    async with db.read() as session:
        row = (
            await session.exec(
                select(AccessToken).where(
                    AccessToken.token_hash == token_digest(token), col(AccessToken.revoked_at).is_(None)
                )
            )
        ).first()
        if row is None:
            return None
        account = await session.get(Account, row.account_id) if row.account_id else None
    return Bearer(row, account)


async def revoke_token(db: Database, token: str) -> bool:
    """Revoke TOKEN in every process at once; False when it is unknown or revoked already."""
    async with db.write() as session:
        row = (
            await session.exec(select(AccessToken).where(AccessToken.token_hash == token_digest(token)))
        ).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        session.add(row)
        await publish(session, Kind.TOKENS, [row.id])
    return True
