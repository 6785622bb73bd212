"""Polls as ActivityStreams: a status's `Question` fields and a local voter's vote `Note`.

Shaped as Mastodon writes them (docs/polls.md): `oneOf` or `anyOf` lists each option as a Note
with its `name` and `replies.totalItems`; `endTime` is when the poll ends, `closed` is set once
it has; `votersCount` counts voters, not votes.
"""

from typing import Any

from spark_fed.activitystreams import AS2
from spark_fed.models import Account, Poll, PollVote, Status

from .notes import iso, with_context


def question_fields(poll: Poll) -> dict[str, Any]:
    """What turns a status's Note into its Question."""
    options = [
        {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": count}}
        for title, count in zip(poll.options, poll.tallies, strict=True)
    ]
    fields: dict[str, Any] = {"type": "Question", "anyOf" if poll.multiple else "oneOf": options}
    if poll.expires_at is not None:
        fields["endTime"] = iso(poll.expires_at)
        if poll.expired():
            fields["closed"] = iso(poll.expires_at)
    fields["votersCount"] = poll.voters_count
    return fields


def poll_update(author: Account, document: dict[str, Any], poll: Poll) -> dict[str, Any]:
    """Update(Question) with the poll's counts now; each carries its own id (the time of the
    counts), so a receiver's de-duplication never drops a later one."""
    stamp = int(poll.updated_at.timestamp() * 1000)
    return with_context(
        {
            "id": f"{document['id']}#updates/{stamp}",
            "type": "Update",
            "actor": author.uri,
            "to": document["to"],
            "cc": document["cc"],
            "object": document,
        }
    )


def vote_id(voter: Account, vote: PollVote) -> str:
    return f"{voter.uri}#votes/{vote.id}"


def vote_create(
    voter: Account, vote: PollVote, status: Status, poll_author: Account, title: str
) -> dict[str, Any]:
    """A local vote on a remote poll: Create(Note) with the option's text as `name`, replying to
    the poll, addressed to its author alone and with no content."""
    note_id = vote_id(voter, vote)
    return {
        "@context": AS2,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": voter.uri,
        "to": poll_author.uri,
        "object": {
            "id": note_id,
            "type": "Note",
            "name": title,
            "attributedTo": voter.uri,
            "to": poll_author.uri,
            "inReplyTo": status.uri,
        },
    }
