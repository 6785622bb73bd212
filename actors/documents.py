"""The actor documents Spark serves, in the shape Mastodon reads (INTEROP §4)."""

from typing import Any

from spark_fed.activitystreams import ACTOR_CONTEXT
from spark_fed.models import Account
from spark_fed.urls import Urls


def _published(account: Account) -> str:
    # Mastodon publishes the creation date at midnight; the day is all anyone shows.
    return account.created_at.strftime("%Y-%m-%dT00:00:00Z")


def _public_key(account: Account) -> dict[str, str]:
    return {"id": account.public_key_id, "owner": account.uri, "publicKeyPem": account.public_key_pem}


def person_document(account: Account, urls: Urls) -> dict[str, Any]:
    return {
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
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": False,
        "published": _published(account),
        "publicKey": _public_key(account),
        "attachment": [],
        "tag": [],
    }


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
