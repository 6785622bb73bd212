"""The activities Spark sends, in the shapes Mastodon matches on (docs/interop.md, Follows)."""

import uuid
from typing import Any

from spark_fed.activitystreams import AS2
from spark_fed.models import Account


def new_follow_id(follower: Account) -> str:
    """Never reused: a re-follow after an unfollow must not look like the old one."""
    return f"{follower.uri}#follows/{uuid.uuid4().hex}"


def follow(follow_id: str, follower: Account, followee: Account) -> dict[str, Any]:
    return {"@context": AS2, "id": follow_id, "type": "Follow", "actor": follower.uri, "object": followee.uri}


def undo(actor: Account, undone: dict[str, Any]) -> dict[str, Any]:
    """Undo embeds the whole original: Mastodon ignores an Undo that only names an id."""
    inner = {key: value for key, value in undone.items() if key != "@context"}
    return {
        "@context": AS2,
        "id": f"{undone['id']}/undo",
        "type": "Undo",
        "actor": actor.uri,
        "object": inner,
    }


def answer(kind: str, actor: Account, received_follow: dict[str, Any]) -> dict[str, Any]:
    """Accept or Reject with the Follow embedded exactly as it was received: its id is what the
    sender matches, and a sender that matches on the embedded object finds it unchanged."""
    return {
        "@context": AS2,
        "id": f"{actor.uri}#{kind.lower()}s/follows/{uuid.uuid4().hex}",
        "type": kind,
        "actor": actor.uri,
        "object": received_follow,
    }


def block(block_id: str, blocker: Account, target: Account) -> dict[str, Any]:
    """Mastodon's `BlockSerializer`: sent to the blocked actor alone."""
    return {
        "@context": AS2,
        "id": block_id,
        "type": "Block",
        "actor": blocker.uri,
        "object": target.uri,
        "to": [target.uri],
    }


def flag(flag_id: str, instance_actor: Account, objects: list[str], comment: str) -> dict[str, Any]:
    """Mastodon's `FlagSerializer`: by the instance actor (the reporter stays anonymous), `object`
    the reported actor and then its posts, `content` the comment."""
    return {
        "@context": AS2,
        "id": flag_id,
        "type": "Flag",
        "actor": instance_actor.uri,
        "content": comment,
        "object": objects,
    }
