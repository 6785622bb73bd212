"""The data model. Importing this package registers every table on SQLModel.metadata."""

from .account import INSTANCE_ACTOR_USERNAME, Account
from .follow import Follow, FollowState
from .jobs import Delivery, HostFailure, InboxItem, JobState, QueuedJob

__all__ = [
    "INSTANCE_ACTOR_USERNAME",
    "Account",
    "Delivery",
    "Follow",
    "FollowState",
    "HostFailure",
    "InboxItem",
    "JobState",
    "QueuedJob",
]
