"""Who may read a post, as one SQL condition: the rule every listing applies when it reads.

Home feed rows, mentions and notifications are indexes written when a post arrives; they are
never a permission. Whether the reader may see a post is decided again at every read, from the
relationships as they stand, so an unfollow, a Reject of an accepted follow, a removed follower
or a block takes effect on the next page, whatever rows are left behind.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col

from ..models import Follow, FollowState, Mention, Status, Visibility

EVERYONE = (Visibility.PUBLIC, Visibility.UNLISTED)
# Made once: an alias made per call costs SQLAlchemy its column adaptation again on every page.
_MENTION = aliased(Mention, name="visible_mention")
_FOLLOW = aliased(Follow, name="visible_follow")


def visible_to(viewer_id: int | None, status: Any = Status) -> ColumnElement[bool]:
    """SQL over STATUS (the `Status` entity or an alias of it): VIEWER_ID may read it by its
    visibility. Public and unlisted: anyone; followers-only: the author, accepted followers and
    those mentioned; direct: the author and those mentioned. Blocks, mutes and suspensions are
    `safety.hidden`'s, applied beside this."""
    everyone = col(status.visibility).in_(EVERYONE)
    if viewer_id is None:
        return everyone
    mention = _MENTION
    mentioned = exists(
        sa_select(literal(1))
        .select_from(mention)
        .where(col(mention.status_id) == col(status.id), mention.account_id == viewer_id)
        .correlate_except(mention)
    )
    follow = _FOLLOW
    follower = exists(
        sa_select(literal(1))
        .select_from(follow)
        .where(
            follow.follower_id == viewer_id,
            col(follow.followee_id) == col(status.account_id),
            follow.state == FollowState.ACCEPTED,
        )
        .correlate_except(follow)
    )
    return or_(
        everyone,
        col(status.account_id) == viewer_id,
        mentioned,
        and_(col(status.visibility) == Visibility.FOLLOWERS, follower),
    )
