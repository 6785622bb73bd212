"""The data model. Importing this package registers every table on SQLModel.metadata."""

from .account import INSTANCE_ACTOR_USERNAME, Account
from .follow import Follow, FollowState

__all__ = ["INSTANCE_ACTOR_USERNAME", "Account", "Follow", "FollowState"]
