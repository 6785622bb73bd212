"""Authorization codes that any Spark process can redeem, exactly once.

A code is not stored: it is the grant itself (account, app, scopes, redirect
URI, PKCE challenge, expiry) signed with an HMAC key derived from the
instance actor's private key, which every process of the instance reads from
the database. So with `server.processes > 1` the process that receives the
token request need not be the one that showed the consent page, which a
per-process cache of codes would get wrong most of the time.

Single use comes from the database too: the access token a code yields is
derived from the code (HMAC again), so redeeming it twice inserts the same
token hash, and the unique index on `access_tokens.token_hash` lets only the
first insert through. A second attempt is refused and, as RFC 6749 §4.1.2
asks, revokes the token the first one got. A code expires after 10 minutes,
as doorkeeper's do.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

from sqlmodel import col

from spark_fed.context import Context
from spark_fed.db import Database
from spark_fed.models import AccessToken
from spark_fed.models.types import utcnow
from spark_fed.tokens import revoke_token, token_digest

CODE_SECONDS = 600
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


@dataclass(frozen=True)
class Grant:
    """What the account holder agreed to on the consent page."""

    account_id: int
    app_id: int
    scopes: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: int


def instance_key(ctx: Context, purpose: str) -> bytes:
    """A key for one PURPOSE: the same in every process, useless for any other purpose.

    It is derived from the instance actor's private key, the one secret every process shares.
    """
    secret = ctx.instance_actor.private_key_pem
    if not secret:
        raise RuntimeError("the instance actor has no private key")
    return hmac.new(secret.encode(), f"spark oauth {purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, text: str) -> str:
    return _b64(hmac.new(key, text.encode(), hashlib.sha256).digest())


def issue_code(
    key: bytes, account_id: int, app_id: int, scopes: list[str], redirect_uri: str, code_challenge: str | None
) -> str:
    grant = Grant(
        account_id, app_id, " ".join(scopes), redirect_uri, code_challenge, int(time.time()) + CODE_SECONDS
    )
    # The nonce makes every code, and so every token derived from one, distinct.
    payload = _b64(json.dumps({**asdict(grant), "nonce": secrets.token_urlsafe(12)}).encode())
    return f"{payload}.{_mac(key, payload)}"


def open_code(key: bytes, code: str) -> Grant | None:
    """The grant CODE carries, or None if it was not signed by this instance or has expired."""
    payload, _, mac = code.partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        data.pop("nonce")
        grant = Grant(**data)
    except (ValueError, TypeError, KeyError):
        return None
    return grant if grant.expires_at >= time.time() else None


def token_for(key: bytes, code: str) -> str:
    """The access token CODE yields: derived, so a second redemption collides with the first."""
    return _mac(key, f"token {code}")


def pkce_matches(challenge: str | None, verifier: str | None) -> bool:
    """RFC 7636 S256; a verifier without a challenge is refused too (a downgrade, RFC 9700 §2.1.1)."""
    if challenge is None:
        return verifier is None
    if verifier is None or not VERIFIER.fullmatch(verifier):
        return False
    computed = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
    return hmac.compare_digest(computed.encode(), challenge.encode())


async def redeem(db: Database, token: str, grant: Grant) -> int | None:
    """Store TOKEN for GRANT and return its creation time; None if the code was redeemed before.

    On a second redemption the first token is revoked: whoever holds a replayed code may have
    stolen it, and the legitimate client can sign in again.
    """
    created_at = utcnow()
    statement = (
        db.insert(AccessToken)
        .values(
            token_hash=token_digest(token),
            account_id=grant.account_id,
            app_id=grant.app_id,
            scopes=grant.scopes,
            created_at=created_at,
        )
        .on_conflict_do_nothing(index_elements=["token_hash"])
        .returning(col(AccessToken.id))
    )
    async with db.write() as session:
        inserted = (await session.exec(statement)).first() is not None
    if inserted:
        return int(created_at.timestamp())
    await revoke_token(db, token)
    return None
