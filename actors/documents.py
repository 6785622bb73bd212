"""The actor documents Spark serves, in the shape Mastodon reads (docs/interop.md, Actor documents)."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.activitystreams import ACTOR_CONTEXT
from spark_fed.media.records import profile_images
from spark_fed.models import Account, MediaAttachment
from spark_fed.models.media import MediaKind
from spark_fed.pins import featured_url
from spark_fed.urls import Urls


def _published(account: Account) -> str:
    # Mastodon publishes the creation date at midnight; the day is all anyone shows.
    return account.created_at.strftime("%Y-%m-%dT00:00:00Z")


def _public_key(account: Account) -> dict[str, str]:
    return {"id": account.public_key_id, "owner": account.uri, "publicKeyPem": account.public_key_pem}


def _image(row: MediaAttachment, urls: Urls) -> dict[str, Any]:
    return {"type": "Image", "mediaType": row.media_type, "url": urls.media(row.id)}


def person_document(
    account: Account,
    urls: Urls,
    *,
    avatar: MediaAttachment | None = None,
    header: MediaAttachment | None = None,
) -> dict[str, Any]:
    """AVATAR and HEADER (the account's rows) become `icon` and `image`, as Mastodon writes them;
    without them the keys are left out."""
    document = {
        "@context": ACTOR_CONTEXT,
        "id": account.uri,
        "type": account.actor_type,
        "webfinger": f"{account.username}@{urls.domain}",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.summary,
        "url": account.url,
        "inbox": account.inbox_url,
        "outbox": account.outbox_url,
        "followers": account.followers_url,
        "following": account.following_url,
        "featured": featured_url(account),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": False,
        "published": _published(account),
        "publicKey": _public_key(account),
        "attachment": [],
        "tag": [],
    }
    if avatar is not None:
        document["icon"] = _image(avatar, urls)
    if header is not None:
        document["image"] = _image(header, urls)
    return document


async def local_person_document(session: AsyncSession, account: Account, urls: Urls) -> dict[str, Any]:
    """`person_document` with the account's avatar and header, loaded in SESSION (one query)."""
    images = await profile_images(session, {account.id})
    return person_document(
        account,
        urls,
        avatar=images.get((account.id, MediaKind.AVATAR)),
        header=images.get((account.id, MediaKind.HEADER)),
    )


def instance_actor_document(account: Account, urls: Urls) -> dict[str, Any]:
    """The reduced field set Mastodon serves for its own instance actor."""
    return {
        "@context": ACTOR_CONTEXT,
        "id": account.uri,
        "type": "Application",
        "preferredUsername": urls.domain,
        "name": account.display_name,
        "inbox": account.inbox_url,
        "outbox": account.outbox_url,
        "url": account.url,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": True,
        "publicKey": _public_key(account),
    }
