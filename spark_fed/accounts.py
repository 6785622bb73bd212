"""Creating local accounts: the users, and the one instance actor that signs Spark's own fetches."""

import asyncio

from sqlalchemy.exc import IntegrityError

from .db import Database
from .errors import UsageError
from .keys import generate_private_key_pem, public_pem_for
from .models import INSTANCE_ACTOR_USERNAME, Account
from .queries.accounts import find_instance_actor, find_local_user
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
) -> Account:
    check_username(username)
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
            session.add(account)
    except IntegrityError:
        raise UsageError(f"username {username!r} is taken") from None
    return account


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
