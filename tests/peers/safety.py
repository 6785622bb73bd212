"""Mastodon's safety activities, built as its serializers build them, for the fake peer to send.

Like the rest of ``tests/peers``, nothing here imports Spark: the shapes follow Mastodon's
``app/serializers/activitypub/block_serializer.rb``, ``undo_block_serializer.rb`` and
``flag_serializer.rb`` (a Flag is the instance actor's, and its ``object`` lists the reported
actor and then the statuses), and are signed by the peer's own code (``FakeMastodon.send``).
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from .mastodon import AS, FakeMastodon

_numbers = itertools.count(1)


def block(peer: FakeMastodon, username: str, target_actor_id: str) -> dict[str, Any]:
    """``BlockSerializer``: ``<actor>#blocks/<n>``, the blocked actor as ``object``."""
    return {
        "@context": AS,
        "id": f"{peer.actor_id(username)}#blocks/{next(_numbers)}",
        "type": "Block",
        "actor": peer.actor_id(username),
        "object": target_actor_id,
    }


def undo_block(peer: FakeMastodon, username: str, sent: dict[str, Any]) -> dict[str, Any]:
    """``UndoBlockSerializer``: ``<block id>/undo`` with the Block embedded."""
    return {
        "@context": AS,
        "id": f"{sent['id']}/undo",
        "type": "Undo",
        "actor": peer.actor_id(username),
        "object": {k: v for k, v in sent.items() if k != "@context"},
    }


def flag(peer: FakeMastodon, objects: list[str], content: str = "") -> dict[str, Any]:
    """``FlagSerializer`` of a forwarded report: by the instance actor, id ``https://host/<uuid>``."""
    return {
        "@context": AS,
        "id": f"{peer.origin}/{uuid.uuid4()}",
        "type": "Flag",
        "actor": peer.instance_actor_id,
        "content": content,
        "object": objects,
    }
