"""Mastodon's Poll entity from a poll row, for one viewer."""

from typing import Any

from spark_fed.models import Poll

from .entities import iso


def poll_entity(poll: Poll, author_id: int, viewer_id: int | None, own_votes: list[int]) -> dict[str, Any]:
    """Hidden totals read null until the poll ends, except to its author; `voted` and
    `own_votes` are there only for a signed-in viewer (the author counts as having voted)."""
    expired = poll.expired()
    hidden = poll.hide_totals and not expired and viewer_id != author_id
    entity: dict[str, Any] = {
        "id": str(poll.status_id),
        "expires_at": iso(poll.expires_at),
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count,
        "options": [
            {"title": title, "votes_count": None if hidden else count}
            for title, count in zip(poll.options, poll.tallies, strict=True)
        ],
        "emojis": [],
    }
    if viewer_id is not None:
        entity["voted"] = viewer_id == author_id or bool(own_votes)
        entity["own_votes"] = own_votes
    return entity
