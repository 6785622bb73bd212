"""Creating local accounts: the users, and the one instance actor that signs Spark's own fetches."""

import asyncio

from sqlalchemy.exc import IntegrityError

from .browser_sessions import end_sessions
from .db import Database
from .errors import UsageError
from .keys import generate_private_key_pem, public_pem_for
from .models import INSTANCE_ACTOR_USERNAME, Account, User
from .queries.accounts import find_instance_actor, find_local_user, find_user_by_email
from .text import plain_to_html
from .urls import Urls
from .usernames import check_username


async def create_local_user(
    db: Database,
    urls: Urls,
    username: str,
    *,
    display_name: str = "",
    bio: str = "",
    locked: bool = False,
    email: str | None = None,
    password_hash: str | None = None,
    approved: bool = True,
) -> Account:
    """PASSWORD_HASH comes from `passwords.hash_password`, hashed before any transaction opens.

    APPROVED=False leaves a sign-up unable to sign in until `spark-fed users approve`."""
    check_username(username)
    email = check_email(email) if email else None
    # RSA generation takes tens of milliseconds: keep it off the event loop.
    private_pem = await asyncio.to_thread(generate_private_key_pem)
    account = Account(
        uri=urls.actor(username),
        username=username,
        actor_type="Person",
        display_name=display_name,
        summary=plain_to_html(bio),
        locked=locked,
        url=urls.profile(username),
        inbox_url=urls.inbox(username),
        shared_inbox_url=urls.shared_inbox,
        outbox_url=urls.outbox(username),
        followers_url=urls.followers(username),
        following_url=urls.following(username),
        public_key_id=urls.key_id(username),
        public_key_pem=public_pem_for(private_pem),
        private_key_pem=private_pem,
    )
    try:
        async with db.write() as session:
            if await find_local_user(session, username) is not None:
                raise UsageError(f"username {username!r} is taken")
            if email and await find_user_by_email(session, email) is not None:
                raise UsageError(f"e-mail {email!r} is taken")
            session.add(account)
            await session.flush()
            session.add(
                User(account_id=account.id, email=email, password_hash=password_hash, approved=approved)
            )
    except IntegrityError:
        raise UsageError(f"username {username!r} or that e-mail is taken") from None
    return account


async def set_password_hash(
    db: Database, account: Account, password_hash: str, *, keep_session: int | None = None
) -> None:
    """Set the password, and sign out every browser but KEEP_SESSION (the one that changed it)."""
    async with db.write() as session:
        user = await session.get(User, account.id)
        if user is None:
            user = User(account_id=account.id)
        user.password_hash = password_hash
        session.add(user)
        await end_sessions(session, account.id, keep=keep_session)


def check_email(email: str) -> str:
    """A plausible address (one @, a dot in the domain, no spaces); mail is not sent to check it."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 320:
        raise UsageError(f"{email!r} is not an e-mail address")
    return email.lower()


async def ensure_instance_actor(db: Database, urls: Urls) -> Account:
    """The instance actor, created on first start; its key must survive restarts."""
    async with db.read() as session:
        existing = await find_instance_actor(session)
    if existing is not None:
        return existing
    private_pem = await asyncio.to_thread(generate_private_key_pem)
    actor = Account(
        uri=urls.instance_actor,
        username=INSTANCE_ACTOR_USERNAME,
        actor_type="Application",
        display_name=urls.domain,
        locked=True,
        discoverable=False,
        url=urls.base + "/",
        inbox_url=urls.instance_inbox,
        shared_inbox_url=urls.shared_inbox,
        outbox_url=urls.instance_outbox,
        public_key_id=urls.instance_key_id,
        public_key_pem=public_pem_for(private_pem),
        private_key_pem=private_pem,
    )
    try:
        async with db.write() as session:
            session.add(actor)
    except IntegrityError:
        # Another process (a worker starting beside `serve`) made it first.
        async with db.read() as session:
            existing = await find_instance_actor(session)
        if existing is None:
            raise
        return existing
    return actor


async def posting_defaults(db: Database, account: Account) -> User:
    """The user's posting defaults (and sign-in row); every local account has one."""
    async with db.read() as session:
        user = await session.get(User, account.id)
    return user or User(account_id=account.id)


async def set_posting_defaults(
    db: Database,
    account: Account,
    *,
    visibility: str | None = None,
    sensitive: bool | None = None,
    language: str | None = None,
) -> User:
    async with db.write() as session:
        user = await session.get(User, account.id) or User(account_id=account.id)
        if visibility is not None:
            user.default_visibility = visibility
        if sensitive is not None:
            user.default_sensitive = sensitive
        if language is not None:
            user.default_language = language or None
        session.add(user)
    return user
