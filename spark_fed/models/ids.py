"""Time-ordered ids for statuses and notifications.

Mastodon's ids are snowflakes: milliseconds since the epoch in the high bits,
so that sorting by id sorts by time and a page of a timeline is a range scan
on the primary key. A remote note keeps its own published time here, so it
sorts where it belongs rather than where it happened to arrive.
"""

import secrets
from datetime import datetime

from .types import utcnow


def snowflake(moment: datetime | None = None) -> int:
    millis = int((moment or utcnow()).timestamp() * 1000)
    return (max(millis, 0) << 16) | secrets.randbits(16)


def snowflake_floor(moment: datetime) -> int:
    """The smallest id of MOMENT: a cursor for "older than this time"."""
    return max(int(moment.timestamp() * 1000), 0) << 16
