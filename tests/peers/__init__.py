"""Independent fake remote servers for Spark's federation tests.

Nothing here imports Spark: each peer signs, verifies and serialises with its own code, following the real
software's sources, so that a protocol misreading in Spark cannot be mirrored by the peer and go unnoticed.
"""

from .cavage import SignatureError
from .mastodon import (
    AS,
    PUBLIC,
    Delivery,
    FakeMastodon,
    FetchRecord,
    FollowState,
    InboxRecord,
    PeerNetworkError,
)

__all__ = [
    "AS",
    "PUBLIC",
    "Delivery",
    "FakeMastodon",
    "FetchRecord",
    "FollowState",
    "InboxRecord",
    "PeerNetworkError",
    "SignatureError",
]
